import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import { meshFetch, NatsServer, waitFor } from "@runnerly/kit/testing";
import type { Subprocess } from "bun";

setDefaultTimeout(30_000);

let nats: NatsServer;
let nc: NatsConnection;
const dataDir = mkdtempSync(join(tmpdir(), "runs-instances-"));
const procs: Subprocess[] = [];

/** Instances answering `$SRV.PING.runs` (none answering is a no-responders error). */
const pingCount = async () => {
  let n = 0;
  try {
    for await (const _ of await new Svcm(nc).client().ping("runs")) n++;
  } catch {
    return 0;
  }
  return n;
};

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  for (let i = 0; i < 2; i++) {
    procs.push(
      Bun.spawn([process.execPath, join(import.meta.dir, "main.ts")], {
        env: {
          ...process.env,
          NATS_URL: nats.url,
          DATA_DIR: dataDir,
          LOG_LEVEL: "warn",
          SERVICE_INSTANCE: String(i),
        },
        stdout: "inherit",
        stderr: "inherit",
      }),
    );
  }
  await waitFor(async () => (await pingCount()) === 2, {
    timeoutMs: 15_000,
    what: "two runs processes registered",
  });
});

afterAll(async () => {
  for (const p of procs) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.exited));
  await nc?.close();
  await nats?.stop();
});

test("two runs processes share the load and one database file", async () => {
  const ids: string[] = [];
  for (let i = 0; i < 40; i++) {
    const res = await meshFetch(nc, "runs", "/api/runs/runs", {
      method: "POST",
      user: "pair",
      json: {
        distanceM: 1000 + i,
        durationS: 300,
        startedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      },
    });
    expect(res.status).toBe(201);
    ids.push(((await res.json()) as { id: string }).id);
  }
  const stats = [];
  for await (const s of await new Svcm(nc).client().stats("runs")) stats.push(s);
  expect(stats).toHaveLength(2);
  for (const s of stats) {
    expect(s.endpoints?.find((e) => e.name === "http")?.num_requests ?? 0).toBeGreaterThan(0);
  }
  // One file under the data dir, and every run is visible through either instance.
  expect(readdirSync(dataDir).filter((f) => f.endsWith(".db"))).toEqual(["runs.db"]);
  expect(existsSync(join(dataDir, "runs.db-wal"))).toBe(true);
  for (let i = 0; i < 6; i++) {
    const page = await meshFetch(nc, "runs", "/api/runs/runs?limit=100", { user: "pair" });
    expect(((await page.json()) as { items: unknown[] }).items).toHaveLength(40);
  }
});

test("SIGTERM stops each process cleanly", async () => {
  const exits = await Promise.all(
    procs.map((p) => {
      p.kill("SIGTERM");
      return p.exited;
    }),
  );
  expect(exits).toEqual([0, 0]);
  await waitFor(async () => (await pingCount()) === 0, { what: "runs deregistered" });
});
