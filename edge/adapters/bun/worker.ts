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
import { z } from "zod";
import { EdgeConfigSchema, longestTimeoutMs } from "../../config.ts";
import { startBunEdge } from "./serve.ts";
import type { WorkerMessage } from "./supervisor.ts";

/**
 * What the supervisor tells each worker (supervisor.ts), not settings of
 * the operator's: its place in the pool, and the pool whose figures it sums.
 */
const WorkerPlaceSchema = z.object({
  EDGE_WORKER: z.string().regex(/^\d+$/).default("0"),
  EDGE_POOL: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional(),
  EDGE_POOL_SIZE: z.coerce.number().int().min(1).max(256).default(1),
});

const place = loadOrExit(WorkerPlaceSchema, process.env, { subject: "edge worker" });
const worker = place.EDGE_WORKER;
const log = createLogger("edge").child({ worker });
const config = loadOrExit(EdgeConfigSchema, process.env, { subject: "edge", logger: log });
// Sibling workers listen on the same port; the kernel spreads connections.
const pool = place.EDGE_POOL ? { id: place.EDGE_POOL, worker, size: place.EDGE_POOL_SIZE } : undefined;
// Not top-level await: `runnerly build` bundles this file as CommonJS.
void (async () => {
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
})();
