/**
 * One edge worker process on Bun: configuration from the environment, its own
 * NATS connection, an HTTP server sharing the port with its sibling workers
 * (`reusePort`), and a graceful stop. Started by the supervisor in
 * edge/main.ts; it also runs alone (`bun edge/adapters/bun/worker.ts`).
 * Serving is serve.ts (shared with the one-process launcher); everything else
 * lives in edge/app.ts.
 */
import { createLogger } from "@runnerly/kit";
import { loadOrExit } from "@runnerly/kit/web";
import { EdgeConfigSchema, longestTimeoutMs } from "../../config.ts";
import { startBunEdge } from "./serve.ts";
import type { WorkerMessage } from "./supervisor.ts";

const worker = process.env.EDGE_WORKER ?? "0";
const log = createLogger("edge").child({ worker });
const config = loadOrExit(EdgeConfigSchema, process.env, { subject: "edge", logger: log });
// Sibling workers listen on the same port; the kernel spreads connections.
// Set by the supervisor: the pool this worker belongs to, whose figures it sums.
const pool = process.env.EDGE_POOL
  ? { id: process.env.EDGE_POOL, worker, size: Number(process.env.EDGE_POOL_SIZE ?? "1") }
  : undefined;
const running = await startBunEdge(config, log, {
  clientName: `edge-${worker}`,
  reusePort: true,
  ...(pool ? { pool } : {}),
});
log.info({ routes: running.edge.routes.list().length }, `edge worker listening on ${running.url}`);
process.send?.({ type: "ready", port: running.server.port ?? config.EDGE_PORT } satisfies WorkerMessage);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "edge worker stopping: no new connections, finishing requests in flight");
  const force = setTimeout(() => {
    log.error({}, "edge worker did not stop in time; exiting");
    process.exit(1);
  }, longestTimeoutMs(config) + 5000);
  await running.stop();
  clearTimeout(force);
  log.info({}, "edge worker stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
