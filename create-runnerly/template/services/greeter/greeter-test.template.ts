/** The greeter service as the edge calls it: over a real nats-server, with a real SQLite file. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { type RunningService, silentLogger, startService } from "@runnerly/kit";
import { meshFetch, NatsServer } from "@runnerly/kit/testing";
import { service } from "./service.ts";

let nats: NatsServer;
let nc: NatsConnection;
let dataDir: string;
let running: RunningService<Record<string, unknown>>;

/** GET /api/greeter/hello, sent over NATS as the edge sends it. */
const hello = (query: string) => meshFetch(nc, "greeter", `/api/greeter/hello${query}`);

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  dataDir = mkdtempSync(join(tmpdir(), "greeter-"));
  const env = { NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: "silent" };
  running = (await startService(service, { env, logger: silentLogger })) as never;
});
afterAll(async () => {
  await running?.stop();
  await nc?.close();
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("greets by name and counts the greetings in its own database", async () => {
  const first = await hello("?name=Ann");
  expect(first.status).toBe(200);
  expect(await first.json()).toEqual({ message: "Hello, Ann!", name: "Ann", times: 1 });
  expect(await (await hello("?name=Ann")).json()).toMatchObject({ times: 2 });
  expect(await (await hello("")).json()).toMatchObject({ name: "world", times: 1 });
});

test("a name that is too long is a 400 problem, not an error", async () => {
  const bad = await hello(`?name=${"x".repeat(101)}`);
  expect(bad.status).toBe(400);
  expect(bad.headers.get("content-type")).toContain("application/problem+json");
});
