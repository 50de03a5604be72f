#!/usr/bin/env bun
/**
 * The edge on Bun: a supervisor keeping EDGE_WORKERS worker processes (default:
 * one per core) that share EDGE_PORT. A worker that dies is replaced at once;
 * SIGTERM/SIGINT drains them all.
 *
 *   NATS_URL=nats://127.0.0.1:4222 EDGE_PORT=8787 bun edge/main.ts
 *
 * Installed, it is the `runnerly-edge` program of @runnerly/edge (the source
 * itself: its workers are started from the .ts files beside it), which
 * `runnerly dev` starts.
 */
import { availableParallelism } from "node:os";
import { createLogger } from "@runnerly/kit";
import { freePort, withAllocatorDefaults } from "@runnerly/kit/runtime";
import { loadOrExit } from "@runnerly/kit/web";
import { WorkerPool } from "./adapters/bun/supervisor.ts";
import { EdgeConfigSchema, longestTimeoutMs } from "./config.ts";

const log = createLogger("edge");
const config = loadOrExit(EdgeConfigSchema, process.env, { subject: "edge", logger: log });
const workers = config.EDGE_WORKERS ?? availableParallelism();

// Not top-level await: `runnerly build` bundles this file as CommonJS.
void (async () => {
  const port = config.EDGE_PORT === 0 ? await freePort(config.EDGE_HOST) : config.EDGE_PORT;

  const pool = new WorkerPool({
    size: workers,
    entry: new URL("./adapters/bun/worker.ts", import.meta.url).pathname,
    // The workers carry the load: they start with the kit's allocator settings unless the environment sets its own.
    env: { ...withAllocatorDefaults(process.env), EDGE_PORT: String(port) },
    logger: log,
    stopTimeoutMs: longestTimeoutMs(config) + 5000,
    // Bun's parser must let through what the edge's own limits judge (431/414 as problems).
    bunFlags: [
      `--max-http-header-size=${config.EDGE_MAX_HEADER_BYTES + config.EDGE_MAX_URL_BYTES + 16 * 1024}`,
    ],
  });
  await pool.start();
  const host = config.EDGE_HOST.includes(":") ? `[${config.EDGE_HOST}]` : config.EDGE_HOST;
  log.info({ workers, pids: pool.pids() }, `edge listening on http://${host}:${port}`);

  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "edge stopping: draining every worker");
    await pool.stop();
    log.info({}, "edge stopped");
    process.exit(0);
  }
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
})();
