/**
 * The edge served by Bun in this process, as an edge worker process
 * (edge/adapters/bun/worker.ts) and the one-process launcher's edge Worker
 * (scripts/single/edge-worker.ts) both run it: tracing, its own NATS
 * connection, the web-standard core (`createEdge`) set up from the config,
 * and `Bun.serve`. Logging, readiness reporting and signals stay with the
 * caller.
 */

import { connectNats, type Logger, natsOptionsFrom, startTracing } from "@runnerly/kit";
import type { Server } from "bun";
import { createEdge, type Edge } from "../../app.ts";
import { type EdgeConfig, edgeOptionsFromConfig, longestTimeoutMs } from "../../config.ts";
import type { PoolMember } from "../../ops/dashboard/index.ts";
import { createPromMetrics } from "../../ops/prom.ts";
import { version as edgeVersion } from "../../package.json" with { type: "json" };

export type BunEdgeOptions = {
  /** The NATS connection's name, before a random suffix: `edge-0` for worker 0, `edge-single`. */
  clientName: string;
  /** Sibling processes listen on the same port; the kernel spreads connections. */
  reusePort?: boolean;
  /** This process as one worker of the supervisor's pool: the dashboard and `/_/slo` sum the figures of all. */
  pool?: PoolMember;
};

export type BunEdge = {
  edge: Edge;
  server: Server<unknown>;
  /** `http://<EDGE_HOST>:<port>`, the host bracketed when it is IPv6. */
  url: string;
  /** Stops taking connections, finishes requests in flight, then closes the edge, NATS and tracing. */
  stop(): Promise<void>;
};

/**
 * Starts the edge on Bun once its first discovery sweep is done (no early 404s).
 *
 * @example
 * const running = await startBunEdge(loadConfig(process.env), log, { clientName: "edge-0", reusePort: true });
 * log.info({}, `edge listening on ${running.url}`);
 */
export async function startBunEdge(
  config: EdgeConfig,
  logger: Logger,
  options: BunEdgeOptions,
): Promise<BunEdge> {
  // Records the edge's spans when OTEL_EXPORTER_OTLP_ENDPOINT is set (the core only uses the API).
  const tracing = startTracing({ serviceName: "edge", version: edgeVersion, logger });
  const nc = await connectNats(
    natsOptionsFrom(config, `${options.clientName}-${crypto.randomUUID().slice(0, 8)}`, logger),
  );
  const edge = createEdge({
    nc,
    logger,
    metrics: createPromMetrics(),
    ...edgeOptionsFromConfig(config),
    ...(options.pool ? { pool: options.pool } : {}),
    // The TCP peer, from Bun's server (Hono hands it to the edge as `env`): what per-address limits count.
    peerAddress: (req, server) => (server as Server<unknown>).requestIP(req)?.address,
  });
  await edge.ready;
  const server = Bun.serve({
    hostname: config.EDGE_HOST,
    port: config.EDGE_PORT,
    fetch: edge.app.fetch,
    reusePort: options.reusePort === true,
    // Bun closes a connection idle this long (s); a request waiting on a slow service must outlive its timeout.
    idleTimeout: Math.min(255, Math.ceil(longestTimeoutMs(config) / 1000) + 5),
  });
  const host = config.EDGE_HOST.includes(":") ? `[${config.EDGE_HOST}]` : config.EDGE_HOST;
  return {
    edge,
    server,
    url: `http://${host}:${server.port}`,
    async stop() {
      await server.stop();
      await edge.close();
      await nc.drain();
      await tracing.shutdown();
    },
  };
}
