/**
 * Worker entry of the edge in the one-process launcher: the edge's
 * web-standard core (`createEdge`) behind `Bun.serve`, set up from this
 * worker's environment as `edge/bun/worker.ts` does for an edge process,
 * with its own NATS connection (the edge's user).
 */
import type { Server } from "bun";
import { createEdge } from "../../edge/app.ts";
import { edgeOptionsFromConfig, loadConfig, longestTimeoutMs } from "../../edge/config.ts";
import { version as edgeVersion } from "../../edge/package.json" with { type: "json" };
import { createPromMetrics } from "../../edge/prom.ts";
import { createLogger } from "../../shared/log/index.ts";
import { connectNats, natsOptionsFrom } from "../../shared/nats/index.ts";
import { startTracing } from "../../shared/trace/index.ts";
import { forwardLogs, hostInWorker } from "./worker-host.ts";

hostInWorker(async () => {
  const log = forwardLogs(createLogger("edge"));
  const config = loadConfig(process.env);
  const tracing = startTracing({ serviceName: "edge", version: edgeVersion, logger: log });
  const nc = await connectNats(
    natsOptionsFrom(config, `edge-single-${crypto.randomUUID().slice(0, 8)}`, log),
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
    // Bun closes a connection idle this long (s); a request waiting on a slow service must outlive its timeout.
    idleTimeout: Math.min(255, Math.ceil(longestTimeoutMs(config) / 1000) + 5),
  });
  const host = config.EDGE_HOST.includes(":") ? `[${config.EDGE_HOST}]` : config.EDGE_HOST;
  const url = `http://${host}:${server.port}`;
  log.info({ routes: edge.routes.list().length }, `edge listening on ${url}`);
  return {
    url,
    async stop() {
      log.info({}, "edge stopping: no new connections, finishing requests in flight");
      await server.stop();
      await edge.close();
      await nc.drain();
      await tracing.shutdown();
      log.info({}, "edge stopped");
    },
  };
});
