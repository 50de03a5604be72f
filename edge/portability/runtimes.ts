/**
 * Starts the edge on each runtime against a test mesh: Bun in this process
 * (NATS over TCP, as edge/main.ts runs it), Deno and workerd as their own
 * processes (NATS over WebSocket), each on a free port.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@runnerly/kit/testing";
import type { Server } from "bun";
import { denoServeCommand } from "../adapters/deno/deno-command.ts";
import { buildWorkerd } from "../adapters/workerd/build.ts";
import { createEdge } from "../app.ts";
import { edgeOptionsFromConfig, loadConfig } from "../config.ts";
import { connect, recordingLogger } from "../test-utils.ts";
import { type RunningEdge, spawnEdge } from "./edge-process.ts";
import { LIMITED_POLICY, type Mesh, PEER_HEADER, PREFIX_GRANTS } from "./mesh.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

// A short sweep keeps the "found later by the sweep" case quick; the timeout bounds a lost reply.
// These suites test routing to anonymous foreign services: token checks are off (edge/middleware/auth has its own tests).
const EDGE_ENV = {
  EDGE_TIMEOUT_MS: "5000",
  EDGE_SWEEP_INTERVAL_MS: "500",
  LOG_LEVEL: "warn",
  EDGE_AUTH: "off",
  EDGE_PREFIX_GRANTS: PREFIX_GRANTS,
  // Anonymous requests to /api/limited are limited by client address (each worker alone: no KV here).
  EDGE_RATE_LIMITS: LIMITED_POLICY,
  EDGE_RATE_LIMIT_BUCKET: "off",
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
  const edge = createEdge({
    nc,
    logger: recordingLogger(),
    ...edgeOptionsFromConfig(loadConfig({ ...EDGE_ENV, NATS_URL: mesh.nats.url })),
    // Bun's server knows the TCP peer (edge/adapters/bun/worker.ts does the same).
    peerAddress: (req, server) => (server as Server<unknown>).requestIP(req)?.address,
  });
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

/** The edge on Deno: `deno serve edge/adapters/deno/deno.ts`, NATS over WebSocket. */
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
    // workerd gives a worker no client address: the platform in front names it (Cloudflare: cf-connecting-ip).
    env: { ...EDGE_ENV, NATS_WS_URL: mesh.nats.wsUrl, EDGE_PEER_HEADER: PEER_HEADER },
  });
  return spawnEdge({
    runtime: "workerd",
    command,
    env: baseEnv(),
    port,
    cleanup: () => rmSync(outDir, { recursive: true, force: true }),
  });
}
