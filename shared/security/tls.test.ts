/**
 * TLS to NATS with the dev CA: a server that requires TLS refuses plaintext
 * and untrusted clients, and a kit service and its callers work over TLS, also
 * with client certificates (mutual TLS).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { silentLogger } from "../log/index.ts";
import { connectNats } from "../nats/index.ts";
import { createRpcClient } from "../rpc/index.ts";
import { startService } from "../service/index.ts";
import { fixtureRpc, fixtureService } from "../testing/fixture/service.ts";
import { meshFetch } from "../testing/mesh-fetch.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { plaintextConnect } from "../testing/plaintext.ts";
import { ensureClientCertificate, ensureDevCertificates, type TlsFiles } from "./tls.ts";

setDefaultTimeout(30_000);

let dir: string;
let files: TlsFiles;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "runnerly-tls-"));
  files = ensureDevCertificates(join(dir, "tls"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("dev certificates", () => {
  test("a CA, a server certificate for localhost and 127.0.0.1, private keys", () => {
    for (const key of [files.keyFile, join(dir, "tls", "ca-key.pem")])
      expect(statSync(key).mode & 0o777).toBe(0o600);
    const verify = Bun.spawnSync(["openssl", "verify", "-CAfile", files.caFile, files.certFile]);
    expect(verify.stdout.toString()).toContain(": OK");
    const text = Bun.spawnSync([
      "openssl",
      "x509",
      "-in",
      files.certFile,
      "-noout",
      "-ext",
      "subjectAltName",
    ]);
    expect(text.stdout.toString()).toMatch(/DNS:localhost, IP Address:127\.0\.0\.1/);
    // Made once: a second call keeps the same files.
    const again = ensureDevCertificates(join(dir, "tls"));
    expect(statSync(again.certFile).mtimeMs).toBe(statSync(files.certFile).mtimeMs);
  });
});

describe("nats-server with TLS required", () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await NatsServer.start({ tls: files });
  });
  afterAll(() => nats?.stop());

  test("refuses a plaintext client and a client that does not trust the CA", async () => {
    expect(nats.url).toStartWith("tls://");
    const answer = await plaintextConnect(nats.port);
    expect(answer).toContain('"tls_required":true');
    expect(answer).not.toContain("PONG");
    expect(answer).not.toContain("still open");
    const untrusted = await connect({ servers: nats.url, reconnect: false }).then(
      (c) => c.close().then(() => "connected"),
      (err: unknown) => String(err),
    );
    expect(untrusted).not.toBe("connected");
  });

  test("a kit service and its callers work over TLS", async () => {
    const service = await startService(fixtureService(), {
      env: {
        NATS_URL: nats.url,
        NATS_TLS_CA: files.caFile,
        DATA_DIR: mkdtempSync(join(dir, "svc-")),
        LOG_LEVEL: "silent",
      },
      logger: silentLogger,
    });
    const nc = await connectNats({
      servers: nats.url,
      name: "caller",
      tlsCaFile: files.caFile,
      logger: silentLogger,
    });
    try {
      const res = await meshFetch(nc, "fixture", "/api/fixture/items", {
        method: "POST",
        user: "ann",
        json: { name: "shoe", qty: 2 },
      });
      expect(res.status).toBe(201);
      expect(await createRpcClient(nc, fixtureRpc).add({ a: 2, b: 3 })).toEqual({ sum: 5 });
      expect(service.relay).not.toBeNull();
    } finally {
      await nc.close();
      await service.stop();
    }
  });
});

describe("nats-server verifying client certificates", () => {
  test("a client without a certificate is refused; with one signed by the CA it connects", async () => {
    const nats = await NatsServer.start({ tls: { ...files, verifyClients: true } });
    try {
      // Plain connect: connectNats would keep trying forever.
      const withoutCert = await connect({
        servers: nats.url,
        reconnect: false,
        tls: { caFile: files.caFile },
      }).then(
        (c) => c.close().then(() => "connected"),
        (err: unknown) => String(err),
      );
      expect(withoutCert).not.toBe("connected");
      const client = ensureClientCertificate(join(dir, "tls"), "runs");
      const nc = await connectNats({
        servers: nats.url,
        name: "runs",
        tlsCaFile: files.caFile,
        tlsCertFile: client.certFile,
        tlsKeyFile: client.keyFile,
        logger: silentLogger,
      });
      expect((await nc.request("$JS.API.INFO", "", { timeout: 2000 })).string()).toContain("account_info");
      await nc.close();
    } finally {
      await nats.stop();
    }
  });
});
