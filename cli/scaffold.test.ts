/** A service made by `runnerly new service` passes its own test and is routed by the edge. */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { silentLogger } from "@runnerly/kit";
import { NatsServer, waitFor } from "@runnerly/kit/testing";
import type { Subprocess } from "bun";
import { createEdge, type Edge } from "../edge/app.ts";

setDefaultTimeout(90_000);

const root = join(import.meta.dir, "..");
// Inside the repository (so @runnerly/kit resolves), in the git-ignored data dir.
const servicesDir = join(root, ".data", `scaffold-${process.pid}`);
let nats: NatsServer;
let nc: NatsConnection;
let proc: Subprocess | null = null;
let edge: Edge | null = null;

beforeAll(async () => {
  mkdirSync(servicesDir, { recursive: true });
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
});
afterAll(async () => {
  proc?.kill("SIGTERM");
  await proc?.exited;
  await edge?.close();
  await nc?.close();
  await nats?.stop();
  rmSync(servicesDir, { recursive: true, force: true });
});

test("new service: scaffolded, its own test passes, and the edge routes to it", async () => {
  const made = Bun.spawnSync(
    [process.execPath, join(root, "cli", "main.ts"), "new", "service", "notes-demo", "--dir", servicesDir],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  expect(made.stderr.toString()).toBe("");
  expect(made.exitCode).toBe(0);
  expect(made.stdout.toString()).toContain("created");
  const dir = join(servicesDir, "notes-demo");

  const own = Bun.spawnSync([process.execPath, "test", "--timeout", "30000"], {
    cwd: dir,
    stdout: "pipe",
    stderr: "pipe",
  });
  const ownOutput = own.stdout.toString() + own.stderr.toString();
  expect(ownOutput).toContain("1 pass");
  expect(own.exitCode).toBe(0);

  proc = Bun.spawn([process.execPath, join(dir, "main.ts")], {
    env: { ...process.env, NATS_URL: nats.url, DATA_DIR: join(servicesDir, "data"), LOG_LEVEL: "warn" },
    stdout: "inherit",
    stderr: "inherit",
  });
  edge = createEdge({ nc, logger: silentLogger });
  await edge.ready;
  await waitFor(() => edge?.routes.match("/api/notes-demo/notes")?.instances.length, {
    timeoutMs: 15_000,
    what: "the new service routed",
  });
  const health = await edge.app.request("/api/notes-demo/healthz");
  expect(health.status).toBe(200);
  expect(((await health.json()) as { service: string }).service).toBe("notes-demo");
  expect((await edge.app.request("/api/notes-demo/notes")).status).toBe(401);

  const again = Bun.spawnSync(
    [process.execPath, join(root, "cli", "main.ts"), "new", "service", "notes-demo", "--dir", servicesDir],
    { stderr: "pipe" },
  );
  expect(again.exitCode).toBe(1);
  expect(again.stderr.toString()).toContain("already exists");
});
