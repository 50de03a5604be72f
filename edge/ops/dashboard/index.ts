/**
 * The operations dashboard at `/_/`: every service with its instances,
 * versions and endpoints, live requests/s, error share and p99 (the edge's
 * own, over a rolling window) beside the service's own counts (`$SRV.STATS`),
 * circuit states, outbox backlog, consumer lag, the topology, and charts of
 * the last 15 minutes. `GET /_/` is the page, `GET /_/api/snapshot` the JSON,
 * `GET /_/events` a stream of snapshots (Server-Sent Events, about one a
 * second). On a Bun edge with several workers the figures, the charts and
 * `/_/slo` are summed over all of them (workers.ts). Web standards only.
 *
 * It shows the mesh's inside to anyone who can reach it: keep `/_/` off the
 * public internet (route only `/api/` and the page there), or turn it off
 * (`EDGE_DASHBOARD=0`, `createEdge({ dashboard: false })`).
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { Logger, ServiceLevels } from "@runnerly/kit/web";
import { Hono } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import type { EdgeEnv } from "../../middleware/request-context/index.ts";
import type { ServiceReport, SloTracker } from "../slo/tracker.ts";
import { sloView } from "../slo/view.ts";
import { dashboardCsp, dashboardHtml, newNonce } from "./page.ts";
import { MeshWatch } from "./poller.ts";
import { chartsOf, SeriesRing } from "./series.ts";
import { buildSnapshot, type RouteCircuit, serviceGauges } from "./snapshot.ts";
import type { CircuitStateName, Snapshot } from "./types.ts";
import { type Cell, figuresOf, RollingWindow } from "./window.ts";
import { FigureExchange, type PoolMember, type WorkerFigures } from "./workers.ts";

export type { Snapshot } from "./types.ts";
export type { PoolMember } from "./workers.ts";

export type DashboardOptions = {
  nc: NatsConnection;
  logger: Logger;
  /** The edge's routes with their circuit states (`Edge.status`). */
  routes: () => RouteCircuit[];
  /** The edge's measured service levels (`/_/slo`), summed over the workers like the rest. */
  slo: SloTracker;
  /** Each service's declared objectives. */
  levelsOf: (service: string) => ServiceLevels;
  /** This process as one worker of a pool (Bun): figures are summed over the pool's workers. */
  pool?: PoolMember;
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
  /** `/_/slo`'s services: the measured levels, summed over the pool's workers. */
  sloReport(): Promise<ServiceReport[]>;
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
  const series = new SeriesRing();
  const watch = new MeshWatch({
    nc: options.nc,
    logger: options.logger,
    intervalMs,
    queryWaitMs: options.queryWaitMs,
    onCounts: (service, sample) => serviceWindow.record(service, sample),
    onPoll: () => {
      for (const r of watch.services.values()) if (r.instances.size) series.gauge(r.name, serviceGauges(r));
    },
  });
  const exchange = new FigureExchange({
    nc: options.nc,
    logger: options.logger,
    ...(options.pool ? { pool: options.pool } : {}),
    own: (through): WorkerFigures => ({
      worker: options.pool?.worker ?? "0",
      since: edgeWindow.since,
      slo: options.slo.counts(through),
      edge: edgeWindow.cells(through),
      polled: serviceWindow.cells(through),
      steps: series.steps(through),
      circuits: worstCircuits(options.routes()),
    }),
  });
  const streams = new Set<() => void>();

  /** A pool sums whole seconds only (the last one is over for every worker); one process counts up to now. */
  function through(now: number): number {
    return Math.floor(now / 1000) - (exchange.pooled ? 1 : 0);
  }

  async function current(): Promise<Snapshot> {
    edgeWindow.prune();
    serviceWindow.prune();
    const now = Date.now();
    const upTo = through(now);
    const all = await exchange.gather(upTo);
    // A window younger than its length (just started) is divided by what it has seen.
    const end = exchange.pooled ? (upTo + 1) * 1000 : now;
    const since = Math.min(...all.map((w) => w.since));
    const span = Math.max(1, Math.min(edgeWindow.seconds, (end - since) / 1000));
    const levels = new Map(
      options.slo
        .reportOf(
          all.map((w) => w.slo),
          options.levelsOf,
        )
        .map((r) => [r.service, r]),
    );
    const circuits = all.map((w) => w.circuits);
    return {
      ...buildSnapshot({
        services: watch.services.values(),
        // Each worker has its own breakers: the worst of them is the edge's.
        routes: options
          .routes()
          .map((r) => ({ ...r, circuit: worst([r.circuit, ...circuits.map((c) => c[r.service])]) })),
        reachable: watch.reachable,
        windowSeconds: edgeWindow.seconds,
        edgeFigures: (name) =>
          figuresOf(
            all.flatMap((w) => w.edge[name] ?? []),
            span,
          ),
        serviceFigures: (name) => figuresOf(firstPerSecond(all.map((w) => w.polled[name] ?? [])), span),
        levels: (name) => sloView(levels.get(name)),
        now,
      }),
      figuresThrough: new Date(end).toISOString(),
      workers: { answeredBy: options.pool?.worker ?? null, merged: all.length },
      charts: chartsOf(
        all.map((w) => w.steps),
        upTo,
      ),
    };
  }
  async function snapshot(): Promise<Snapshot> {
    await watch.fresh();
    return current();
  }
  async function sloReport(): Promise<ServiceReport[]> {
    const all = await exchange.gather(through(Date.now()));
    return options.slo.reportOf(
      all.map((w) => w.slo),
      options.levelsOf,
    );
  }

  /** One answered request of a service, as the edge measured it. */
  function observe(service: string, status: number, seconds: number): void {
    const ms = seconds * 1000;
    edgeWindow.record(service, { requests: 1, errors: status >= 500 ? 1 : 0, totalMs: ms, latencyMs: ms });
    series.record(service, status, ms);
  }

  async function follow(stream: SSEStreamingApi): Promise<void> {
    let id = 0;
    let writing = Promise.resolve();
    const send = () => {
      writing = writing
        .then(async () =>
          stream.writeSSE({ event: "snapshot", id: String(++id), data: JSON.stringify(await current()) }),
        )
        .catch(() => stream.abort());
    };
    await watch.fresh();
    // `retry`: how soon the browser reconnects after the stream ends.
    await stream.writeSSE({
      retry: 1000,
      event: "snapshot",
      id: String(++id),
      data: JSON.stringify(await current()),
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
    exchange.close();
    await watch.close();
  }
  return { app, observe, snapshot, sloReport, close };
}

const CIRCUIT_RANK: Record<CircuitStateName, number> = { closed: 0, "half-open": 1, open: 2 };

function worst(states: (CircuitStateName | undefined)[]): CircuitStateName {
  let w: CircuitStateName = "closed";
  for (const s of states) if (s && CIRCUIT_RANK[s] > CIRCUIT_RANK[w]) w = s;
  return w;
}

/** Each routed service's worst circuit in this worker. */
function worstCircuits(routes: RouteCircuit[]): Record<string, CircuitStateName> {
  const out: Record<string, CircuitStateName> = {};
  for (const r of routes) out[r.service] = worst([out[r.service], r.circuit]);
  return out;
}

/**
 * The services' own counts, second by second: every worker that polls reads
 * the same counters, so a second is taken from the first worker that polled in it.
 */
function firstPerSecond(perWorker: Cell[][]): Cell[] {
  const bySecond = new Map<number, Cell>();
  for (const cells of perWorker)
    for (const c of cells) if (!bySecond.has(c.second)) bySecond.set(c.second, c);
  return [...bySecond.values()];
}
