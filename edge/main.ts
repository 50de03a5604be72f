/**
 * The edge on Bun: configuration from the environment, a NATS connection, an
 * HTTP server, and a graceful stop. Everything else lives in app.ts.
 *
 *   NATS_URL=nats://127.0.0.1:4222 EDGE_PORT=8787 bun edge/main.ts
 */
import { createLogger } from "../shared/log/index.ts";
import { connectNats } from "../shared/nats/index.ts";
import { createEdge } from "./app.ts";
import { ConfigError, type EdgeConfig, loadConfig } from "./config.ts";

const log = createLogger("edge");
const config = loadOrExit();

const nc = await connectNats({
  servers: config.NATS_URL,
  name: `edge-${crypto.randomUUID().slice(0, 8)}`,
  user: config.NATS_USER,
  pass: config.NATS_PASS,
  token: config.NATS_TOKEN,
  credsFile: config.NATS_CREDS,
  logger: log,
});
const edge = createEdge({
  nc,
  logger: log,
  requestTimeoutMs: config.EDGE_TIMEOUT_MS,
  sweepIntervalMs: config.EDGE_SWEEP_INTERVAL_MS,
});
await edge.ready;

const server = Bun.serve({
  hostname: config.EDGE_HOST,
  port: config.EDGE_PORT,
  fetch: edge.app.fetch,
  // Bun closes a connection idle this long (s); a request waiting on a slow service must outlive its timeout.
  idleTimeout: Math.min(255, Math.ceil(config.EDGE_TIMEOUT_MS / 1000) + 5),
});
const host = config.EDGE_HOST.includes(":") ? `[${config.EDGE_HOST}]` : config.EDGE_HOST;
log.info({ routes: edge.routes.list().length }, `edge listening on http://${host}:${server.port}`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "edge stopping: no new connections, finishing requests in flight");
  const force = setTimeout(() => {
    log.error({}, "edge did not stop in time; exiting");
    process.exit(1);
  }, config.EDGE_TIMEOUT_MS + 5000);
  await server.stop();
  await edge.close();
  await nc.drain();
  clearTimeout(force);
  log.info({}, "edge stopped");
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
