/**
 * Starts the edge on each runtime against a test mesh: Bun in this process
 * (NATS over TCP, as edge/main.ts runs it), Deno and workerd as their own
 * processes (NATS over WebSocket), each on a free port.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@runnerly/kit/testing";
import { createEdge } from "../app.ts";
import { denoServeCommand } from "../runtimes/deno-command.ts";
import { buildWorkerd } from "../runtimes/workerd/build.ts";
import { connect, recordingLogger } from "../test-utils.ts";
import { type RunningEdge, spawnEdge } from "./edge-process.ts";
import type { Mesh } from "./mesh.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

// A short sweep keeps the "found later by the sweep" case quick; the timeout bounds a lost reply.
// These suites test routing to anonymous foreign services: token checks are off (edge/auth has its own tests).
const EDGE_ENV = {
  EDGE_TIMEOUT_MS: "5000",
  EDGE_SWEEP_INTERVAL_MS: "500",
  LOG_LEVEL: "warn",
  EDGE_AUTH: "off",
};

/** What a spawned runtime needs from this process's environment, and nothing of the mesh's own settings. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const key of ["PATH", "HOME", "TMPDIR", "DENO_DIR"]) {
    const value = process.env[key];
    if (value) env[key] = value;
  }
  return env;
}

/** The edge on Bun: createEdge over a TCP connection, served by Bun.serve on a free port. */
export async function startBunEdge(mesh: Mesh): Promise<RunningEdge> {
  const nc = await connect(mesh.nats.url, "edge-bun");
  const edge = createEdge({ nc, logger: recordingLogger(), requestTimeoutMs: 5000, sweepIntervalMs: 500 });
  await edge.ready;
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: edge.app.fetch });
  return {
    base: `http://127.0.0.1:${server.port}`,
    async stop() {
      await server.stop(true);
      await edge.close();
      await nc.close();
    },
  };
}

/** The edge on Deno: `deno serve edge/runtimes/deno.ts`, NATS over WebSocket. */
export async function startDenoEdge(mesh: Mesh): Promise<RunningEdge> {
  const port = await freePort();
  return spawnEdge({
    runtime: "Deno",
    command: denoServeCommand({ host: "127.0.0.1", port }),
    env: { ...baseEnv(), ...EDGE_ENV, NATS_WS_URL: mesh.nats.wsUrl },
    port,
    cwd: ROOT,
  });
}

/** The edge on workerd: the bundled worker and its generated config, NATS over WebSocket. */
export async function startWorkerdEdge(mesh: Mesh): Promise<RunningEdge> {
  const port = await freePort();
  const outDir = mkdtempSync(join(tmpdir(), "runnerly-workerd-"));
  const { command } = await buildWorkerd({
    outDir,
    host: "127.0.0.1",
    port,
    env: { ...EDGE_ENV, NATS_WS_URL: mesh.nats.wsUrl },
  });
  return spawnEdge({
    runtime: "workerd",
    command,
    env: baseEnv(),
    port,
    cleanup: () => rmSync(outDir, { recursive: true, force: true }),
  });
}
