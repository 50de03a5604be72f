/**
 * One edge worker process on Bun: configuration from the environment, its own
 * NATS connection, an HTTP server sharing the port with its sibling workers
 * (`reusePort`), and a graceful stop. Started by the supervisor in main.ts;
 * it also runs alone (`bun edge/bun/worker.ts`). Everything else lives in app.ts.
 */
import type { Server } from "bun";
import { createLogger } from "../../shared/log/index.ts";
import { connectNats, natsOptionsFrom } from "../../shared/nats/index.ts";
import { startTracing } from "../../shared/trace/index.ts";
import { createEdge } from "../app.ts";
import {
  ConfigError,
  type EdgeConfig,
  edgeOptionsFromConfig,
  loadConfig,
  longestTimeoutMs,
} from "../config.ts";
import { version as edgeVersion } from "../package.json" with { type: "json" };
import { createPromMetrics } from "../prom.ts";
import type { WorkerMessage } from "./supervisor.ts";

const worker = process.env.EDGE_WORKER ?? "0";
const log = createLogger("edge").child({ worker });
const config = loadOrExit();
// Records the edge's spans when OTEL_EXPORTER_OTLP_ENDPOINT is set (the core only uses the API).
const tracing = startTracing({ serviceName: "edge", version: edgeVersion, logger: log });

const nc = await connectNats(
  natsOptionsFrom(config, `edge-${worker}-${crypto.randomUUID().slice(0, 8)}`, log),
);
const edge = createEdge({
  nc,
  logger: log,
  metrics: createPromMetrics(),
  ...edgeOptionsFromConfig(config),
  // The TCP peer, from Bun's server (Hono hands it to the edge as `env`): what per-address limits count.
  peerAddress: (req, server) => (server as Server<unknown>).requestIP(req)?.address,
});
await edge.ready;

const server = Bun.serve({
  hostname: config.EDGE_HOST,
  port: config.EDGE_PORT,
  fetch: edge.app.fetch,
  // Sibling workers listen on the same port; the kernel spreads connections.
  reusePort: true,
  // Bun closes a connection idle this long (s); a request waiting on a slow service must outlive its timeout.
  idleTimeout: Math.min(255, Math.ceil(longestTimeoutMs(config) / 1000) + 5),
});
const host = config.EDGE_HOST.includes(":") ? `[${config.EDGE_HOST}]` : config.EDGE_HOST;
log.info({ routes: edge.routes.list().length }, `edge worker listening on http://${host}:${server.port}`);
process.send?.({ type: "ready", port: server.port ?? config.EDGE_PORT } satisfies WorkerMessage);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "edge worker stopping: no new connections, finishing requests in flight");
  const force = setTimeout(() => {
    log.error({}, "edge worker did not stop in time; exiting");
    process.exit(1);
  }, longestTimeoutMs(config) + 5000);
  await server.stop();
  await edge.close();
  await nc.drain();
  await tracing.shutdown();
  clearTimeout(force);
  log.info({}, "edge worker stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

function loadOrExit(): EdgeConfig {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    log.error({ problems: err.problems }, err.message);
    process.exit(1);
  }
}
