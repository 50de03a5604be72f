/**
 * The edge: an HTTP gateway that discovers services over NATS and forwards each
 * request to the one owning its path prefix. Web standards only (Request,
 * Response, fetch, crypto) plus hono and the NATS v3 core, so this file runs
 * unchanged on Bun, Deno and workerd; `main.ts` is the Bun adapter.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { type Logger, MeshError } from "@runnerly/kit/web";
import { Hono } from "hono";
import { startDiscovery } from "./discovery.ts";
import { proxy } from "./proxy.ts";
import { RouteTable, type RouteView } from "./route-table.ts";

export type { Instance, Route, RouteView } from "./route-table.ts";

export type EdgeOptions = {
  /** A connected NATS connection; the edge never closes it (its owner drains it). */
  nc: NatsConnection;
  logger: Logger;
  /** How long a proxied request waits for the service (default 10000); also sets `Mesh-Deadline`. */
  requestTimeoutMs?: number;
  /** Pause between two `$SRV.INFO` sweeps (default 1000). */
  sweepIntervalMs?: number;
  /** How long a discovery query waits for its first reply (default 2000). */
  discoveryWaitMs?: number;
};

export type Edge = {
  /** The gateway; serve `app.fetch` with any runtime's HTTP server. */
  app: Hono;
  /** The live route table (longest prefix first). */
  routes: RouteView;
  /** Settles when the first discovery sweep is done; serve after it to avoid early 404s. */
  ready: Promise<void>;
  /** Stops discovery (sweeps, announce subscription); in-flight proxied requests finish on their own. */
  close(): Promise<void>;
};

/**
 * Builds the edge: discovery starts at once, routes are `GET /healthz`,
 * `GET /_/routes` (the rest of `/_/` is the edge's too) and every other
 * request proxied to the service whose `http.prefix` is the longest match of
 * its path.
 *
 * @example
 * const edge = createEdge({ nc, logger });
 * await edge.ready;
 * Bun.serve({ port: 8787, fetch: edge.app.fetch });
 */
export function createEdge(options: EdgeOptions): Edge {
  const { nc, logger } = options;
  const requestTimeoutMs = positive("requestTimeoutMs", options.requestTimeoutMs ?? 10_000);
  const sweepIntervalMs = positive("sweepIntervalMs", options.sweepIntervalMs ?? 1000);
  const queryWaitMs = positive("discoveryWaitMs", options.discoveryWaitMs ?? 2000);

  const table = new RouteTable({ logger });
  const discovery = startDiscovery({ nc, table, logger, sweepIntervalMs, queryWaitMs });

  const app = new Hono();
  app.get("/healthz", (c) =>
    nc.isClosed() ? c.json({ status: "nats connection closed" }, 503) : c.json({ status: "ok" }),
  );
  app.get("/_/routes", (c) => c.json({ routes: table.list() }));
  // `/_/` is the edge's own namespace: never proxied, even to a service mounted at `/`.
  app.all("/_/*", (c) =>
    new MeshError(404, { detail: `The gateway has no ${c.req.path}.` }).toResponse(c.req.path),
  );
  app.all(
    "*",
    proxy({ nc, routes: table, logger, requestTimeoutMs, onNoResponders: discovery.checkService }),
  );
  app.onError(function onError(err, c) {
    logger.error({ err: String(err), path: c.req.path }, "edge route failed");
    return new MeshError(500, { detail: "The gateway failed to handle the request." }).toResponse(c.req.path);
  });

  return { app, routes: table, ready: discovery.ready, close: discovery.close };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}
