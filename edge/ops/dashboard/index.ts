/**
 * The operations dashboard at `/_/`: every service with its instances,
 * versions and endpoints, live requests/s, error share and p99 (the edge's
 * own, over a rolling window) beside the service's own counts (`$SRV.STATS`),
 * circuit states, outbox backlog, consumer lag, and the topology. `GET /_/`
 * is the page, `GET /_/api/snapshot` the JSON, `GET /_/events` a stream of
 * snapshots (Server-Sent Events, about one a second). Web standards only.
 *
 * It shows the mesh's inside to anyone who can reach it: keep `/_/` off the
 * public internet (route only `/api/` and the page there), or turn it off
 * (`EDGE_DASHBOARD=0`, `createEdge({ dashboard: false })`).
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { Logger } from "@runnerly/kit/web";
import { Hono } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import type { EdgeEnv } from "../../middleware/request-context/index.ts";
import { dashboardCsp, dashboardHtml, newNonce } from "./page.ts";
import { MeshWatch } from "./poller.ts";
import { buildSnapshot, type RouteCircuit } from "./snapshot.ts";
import type { SloView, Snapshot } from "./types.ts";
import { RollingWindow } from "./window.ts";

export type { Snapshot } from "./types.ts";

export type DashboardOptions = {
  nc: NatsConnection;
  logger: Logger;
  /** The edge's routes with their circuit states (`Edge.status`). */
  routes: () => RouteCircuit[];
  /** Each service's measured levels against its objectives (the edge's `/_/slo`). */
  levels?: (service: string) => SloView | null;
  /** Pause between two polls of `$SRV` and two frames of `/_/events` (default 1000). */
  intervalMs?: number;
  /** How long a `$SRV` query waits for its first reply (default 2000). */
  queryWaitMs?: number;
  /** Length of the window of requests/s, errors and p99 (default 10 s). */
  windowSeconds?: number;
  /**
   * Longest life of one event stream (default 10 s). The page reconnects at
   * once; a graceful stop then waits for no stream longer than this.
   */
  streamMs?: number;
};

export type Dashboard = {
  /** `GET /_/`, `/_/api/snapshot`, `/_/events`: `app.route("/", dashboard.app)`. */
  app: Hono<EdgeEnv>;
  /** Counts an answered request of a service for the live figures (the edge's request context calls it). */
  observe(service: string, status: number, seconds: number): void;
  /** The current snapshot (polls first if nobody was watching). */
  snapshot(): Promise<Snapshot>;
  /** Ends polling and every open event stream. */
  close(): Promise<void>;
};

/**
 * Builds the dashboard; it polls NATS only while someone looks at it.
 *
 * @example
 * const dashboard = createDashboard({ nc, logger, routes: () => edge.status() });
 * app.route("/", dashboard.app);
 * app.use(requestContext(metrics, dashboard.observe));
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const intervalMs = options.intervalMs ?? 1000;
  const streamMs = options.streamMs ?? 10_000;
  const edgeWindow = new RollingWindow(options.windowSeconds ?? 10);
  const serviceWindow = new RollingWindow(edgeWindow.seconds);
  const watch = new MeshWatch({
    nc: options.nc,
    logger: options.logger,
    intervalMs,
    queryWaitMs: options.queryWaitMs,
    onCounts: (service, sample) => serviceWindow.record(service, sample),
  });
  const streams = new Set<() => void>();

  function current(): Snapshot {
    edgeWindow.prune();
    serviceWindow.prune();
    return buildSnapshot({
      services: watch.services.values(),
      routes: options.routes(),
      reachable: watch.reachable,
      windowSeconds: edgeWindow.seconds,
      edgeFigures: (name) => edgeWindow.figures(name),
      serviceFigures: (name) => serviceWindow.figures(name),
      ...(options.levels ? { levels: options.levels } : {}),
      now: Date.now(),
    });
  }
  async function snapshot(): Promise<Snapshot> {
    await watch.fresh();
    return current();
  }

  /** One answered request of a service, as the edge measured it. */
  function observe(service: string, status: number, seconds: number): void {
    const ms = seconds * 1000;
    edgeWindow.record(service, { requests: 1, errors: status >= 500 ? 1 : 0, totalMs: ms, latencyMs: ms });
  }

  async function follow(stream: SSEStreamingApi): Promise<void> {
    let id = 0;
    let writing = Promise.resolve();
    const send = () => {
      writing = writing
        .then(() => stream.writeSSE({ event: "snapshot", id: String(++id), data: JSON.stringify(current()) }))
        .catch(() => stream.abort());
    };
    await watch.fresh();
    // `retry`: how soon the browser reconnects after the stream ends.
    await stream.writeSSE({
      retry: 1000,
      event: "snapshot",
      id: String(++id),
      data: JSON.stringify(current()),
    });
    const unsubscribe = watch.subscribe(send);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(end, streamMs);
      function end() {
        clearTimeout(timer);
        streams.delete(end);
        resolve();
      }
      streams.add(end);
      stream.onAbort(end);
    });
    unsubscribe();
    await writing;
  }

  const app = new Hono<EdgeEnv>();
  app.get("/_", (c) => c.redirect("/_/", 308));
  app.get("/_/", (c) => {
    const nonce = newNonce();
    return c.html(dashboardHtml(nonce), 200, {
      "content-security-policy": dashboardCsp(nonce),
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
    });
  });
  app.get("/_/api/snapshot", async (c) => c.json(await snapshot(), 200, { "cache-control": "no-store" }));
  app.get("/_/events", (c) =>
    streamSSE(c, follow, async (err) => {
      options.logger.warn({ err: String(err) }, "dashboard event stream failed");
    }),
  );

  async function close(): Promise<void> {
    for (const end of [...streams]) end();
    await watch.close();
  }
  return { app, observe, snapshot, close };
}
