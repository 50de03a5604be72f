/** Credentials on disk: private files, bcrypt in the server config, stable passwords, a real server that takes them. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { silentLogger } from "../log/index.ts";
import { connectNats } from "../nats/index.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { type NatsAuthState, readCredentials, readNatsAuthState, writeNatsAuth } from "./credentials.ts";

setDefaultTimeout(20_000);

let dir: string;
const state: NatsAuthState = {
  services: [
    { name: "runs", events: true, consumes: [], calls: [] },
    { name: "plans", events: false, consumes: [], calls: ["svc.stats.rpc.weeklyTotals"] },
  ],
  added: [],
  connection: { NATS_URL: "nats://127.0.0.1:4222" },
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "runnerly-creds-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mode = (file: string) => statSync(file).mode & 0o777;

describe("writeNatsAuth", () => {
  test("writes one private creds file per user and a bcrypt-only server config", async () => {
    const auth = await writeNatsAuth(dir, state);
    expect(auth.users.map((u) => u.user)).toEqual(["plans", "runs", "edge", "operator", "provisioner"]);
    for (const user of ["plans", "runs", "edge", "operator", "provisioner"]) {
      const file = join(dir, "creds", `${user}.env`);
      expect(mode(file)).toBe(0o600);
      const creds = readCredentials(file);
      expect(creds).toEqual(auth.env(user));
      expect(creds.NATS_USER).toBe(user);
      expect(creds.NATS_PASS).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(creds.NATS_URL).toBe("nats://127.0.0.1:4222");
    }
    expect(mode(join(dir, "creds"))).toBe(0o700);
    expect(mode(auth.authFile)).toBe(0o600);
    const conf = readFileSync(auth.authFile, "utf8");
    expect(conf.match(/"password":"\$2b\$10\$/g)?.length).toBe(5);
    expect(conf).not.toContain(auth.env("runs").NATS_PASS);
    expect(readNatsAuthState(dir)).toEqual(state);
  });

  test("a service that pulls: its pull user shares its password and creds file, and nats-server takes it", async () => {
    const pulling = await writeNatsAuth(join(dir, "pulling"), {
      ...state,
      services: [
        {
          name: "stats",
          events: false,
          consumes: [{ stream: "EVENTS_RUNS", durable: "stats-t" }],
          calls: [],
        },
      ],
    });
    expect(pulling.users.map((u) => u.user)).toEqual([
      "stats",
      "stats.pull",
      "edge",
      "operator",
      "provisioner",
    ]);
    const stats = readCredentials(join(dir, "pulling", "creds", "stats.env"));
    expect(stats.NATS_PULL_USER).toBe("stats.pull");
    expect(existsSync(join(dir, "pulling", "creds", "stats.pull.env"))).toBe(false);
    const nats = await NatsServer.start({ authFile: pulling.authFile });
    try {
      const nc = await connectNats({
        servers: nats.url,
        name: "stats-pull",
        user: stats.NATS_PULL_USER,
        pass: stats.NATS_PASS,
        inboxPrefix: "_INBOX.stats.pull",
        logger: silentLogger,
      });
      const jsInfo = await nc.request("$JS.API.INFO", "", { timeout: 2000 });
      expect(jsInfo.json<{ type?: string }>().type).toBe("io.nats.jetstream.api.v1.account_info_response");
      await nc.close();
    } finally {
      await nats.stop();
    }
  });

  test("keeps passwords across regenerations and removes users no longer listed", async () => {
    const before = readCredentials(join(dir, "creds", "runs.env")).NATS_PASS;
    const added = [{ name: "greeter", events: false, consumes: [], calls: [] }];
    const auth = await writeNatsAuth(dir, { ...state, services: state.services.slice(0, 1), added });
    expect(auth.env("runs").NATS_PASS).toBe(before);
    expect(existsSync(join(dir, "creds", "plans.env"))).toBe(false);
    expect(existsSync(join(dir, "creds", "greeter.env"))).toBe(true);
    expect(() => auth.env("plans")).toThrow(/no NATS user/);
  });

  test("nats-server takes the generated config: users connect, anonymous and wrong passwords do not", async () => {
    const auth = await writeNatsAuth(dir, state);
    const nats = await NatsServer.start({ authFile: auth.authFile });
    try {
      const runs = auth.env("runs");
      // The kit's connection puts replies under _INBOX.runs, the only inbox runs may read.
      const nc = await connectNats({
        servers: nats.url,
        name: "runs",
        user: runs.NATS_USER,
        pass: runs.NATS_PASS,
        logger: silentLogger,
      });
      const jsInfo = await nc.request("$JS.API.INFO", "", { timeout: 2000 });
      expect(jsInfo.json<{ type?: string }>().type).toBe("io.nats.jetstream.api.v1.account_info_response");
      await nc.close();
      const refused = (o: object) =>
        connect({ servers: nats.url, reconnect: false, ...o }).then(
          async (c) => {
            await c.close();
            return "connected";
          },
          (err: unknown) => String(err),
        );
      expect(await refused({})).toMatch(/Authorization Violation/);
      expect(await refused({ user: "runs", pass: auth.env("plans").NATS_PASS })).toMatch(/Authorization/);
    } finally {
      await nats.stop();
    }
  });
});
