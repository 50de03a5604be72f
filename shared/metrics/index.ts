/**
 * Prometheus metrics of one service instance (prom-client), served on
 * `GET /metrics` of its app: requests by route and status, NATS disconnects
 * and reconnects, RPC calls by target and outcome, load shedding, its event
 * figures (outbox, consumers, dead letters) and its task figures (queue
 * depth and age, results delivered) read at scrape time. Every
 * series carries `service` and `instance`; process metrics come with them.
 */
import type { NatsConnection, Status } from "@nats-io/nats-core";
import type { Handler, MiddlewareHandler } from "hono";
import type { Store } from "../db/index.ts";
import type { EventConsumer, OutboxRelay } from "../events/index.ts";
import { observeRpcCalls } from "../rpc/observer.ts";
import type { TaskDefinition } from "../tasks/define.ts";
import { lazyJsm, registerEventMetrics } from "./event-metrics.ts";
import { type ServiceStatsData, serviceFigures } from "./figures.ts";
import { httpMetrics } from "./http.ts";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "./prom.ts";
import { TaskResultCounts, taskFigures } from "./task-figures.ts";
import { registerTaskMetrics } from "./task-metrics.ts";

export type { ServiceStatsData } from "./figures.ts";
export { httpMetrics, METRICS_PATH, methodLabel, routeLabel, UNMATCHED_ROUTE } from "./http.ts";
export { readTaskQueue, type TaskQueueFigures, taskLabel } from "./task-figures.ts";

export type ServiceMetricsOptions = {
  service: string;
  instance: string;
  nc: NatsConnection;
  store: Store<Record<string, unknown>>;
  relay: OutboxRelay | null;
  /** The instance's consumers; read at scrape time, so it may be filled after this is created. */
  consumers: EventConsumer[];
  /** The tasks it works (its queue is measured) and the tasks it submits. */
  tasks?: { works: TaskDefinition[]; submits: TaskDefinition[] };
  /** How long one reading of the event figures is reused (default 1000 ms). */
  figuresCacheMs?: number;
  /** How long a scrape waits for JetStream consumer info (default 1000 ms; then the last known figures). */
  figuresTimeoutMs?: number;
  /** Process metrics (CPU, memory, event loop) once `startProcessMetrics` is called; default true. */
  processMetrics?: boolean;
};

export type ServiceMetrics = {
  registry: Registry;
  /** Records every request but `/metrics` itself. */
  middleware: MiddlewareHandler;
  /** `GET /metrics`: the Prometheus text exposition. */
  handler: Handler;
  /** A request refused by load shedding. */
  shed(): void;
  /** A callback of a submitted task committed: counted by task (`<owner>/<name>`) and status. */
  taskResult(task: string, status: string): void;
  /** The event and task figures for `$SRV.STATS` (the same reading the gauges use). */
  stats(): Promise<ServiceStatsData>;
  render(): Promise<string>;
  /**
   * Registers prom-client's process metrics (once). Loading their modules
   * and setting them up costs 20–30 ms of synchronous work (Bun's emulation
   * of V8's heap-space statistics, the event-loop and GC observers), so
   * `startService` calls this once the instance is registered and announced
   * and the replies of that turn are written, not before: until then the
   * event loop answers `$SRV.PING` sooner.
   */
  startProcessMetrics(): void;
  /** Stops watching NATS and RPC calls. */
  close(): void;
};

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Creates the metrics of one service instance in a registry of its own (so
 * several services in one process keep theirs apart).
 *
 * @example
 * const metrics = createServiceMetrics({ service: "runs", instance: id, nc, store, relay, consumers, jsm });
 * app.use("*", metrics.middleware);
 * app.get("/metrics", metrics.handler);
 */
export function createServiceMetrics(o: ServiceMetricsOptions): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: o.service, instance: o.instance });
  let processMetrics = o.processMetrics !== false;
  const registers = [registry];
  const jsm = lazyJsm(o.nc, o.figuresTimeoutMs ?? 1000);
  const works = o.tasks?.works ?? [];
  const submits = o.tasks?.submits ?? [];
  const results = new TaskResultCounts();
  const figures = serviceFigures({
    store: o.store,
    relay: o.relay,
    consumers: o.consumers,
    jsm,
    tasks: taskFigures({ service: o.service, store: o.store, works, submits, jsm }, results),
    ...(o.figuresCacheMs !== undefined ? { cacheMs: o.figuresCacheMs } : {}),
  });

  const requests = new Counter({
    name: "runnerly_http_requests_total",
    help: "HTTP requests handled (over NATS and on the direct port), by method, route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    registers,
  });
  const duration = new Histogram({
    name: "runnerly_http_request_duration_seconds",
    help: "Time to handle an HTTP request, by method, route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    buckets: SECONDS,
    registers,
  });
  const shed = new Counter({
    name: "runnerly_shed_total",
    help: "Requests refused by load shedding (503) because the instance was at its concurrency limit.",
    registers,
  });
  const rpcCalls = new Counter({
    name: "runnerly_rpc_calls_total",
    help: "RPC calls made to other services, by target (service.method) and outcome.",
    labelNames: ["target", "outcome"] as const,
    registers,
  });
  const rpcDuration = new Histogram({
    name: "runnerly_rpc_call_duration_seconds",
    help: "Time of RPC calls made to other services, by target and outcome.",
    labelNames: ["target", "outcome"] as const,
    buckets: SECONDS,
    registers,
  });
  const nats = watchNats(o.nc, registers);
  const stopRpc = observeRpcCalls((call) => {
    if (call.nc !== o.nc) return;
    rpcCalls.inc({ target: call.target, outcome: call.outcome });
    rpcDuration.observe({ target: call.target, outcome: call.outcome }, call.seconds);
  });
  registerEventMetrics(o, figures, registers);
  registerTaskMetrics({ works: works.length > 0, submits: submits.length > 0, results }, figures, registers);

  const middleware = httpMetrics((method, route, status, seconds) => {
    const labels = { method, route, status: String(status) };
    requests.inc(labels);
    duration.observe(labels, seconds);
  });
  return {
    registry,
    middleware,
    handler: async (c) =>
      c.body(await registry.metrics(), 200, {
        "content-type": registry.contentType,
        "cache-control": "no-store",
      }),
    shed: () => shed.inc(),
    taskResult: (task, status) => results.add(task, status),
    stats: () => figures.read(),
    render: () => registry.metrics(),
    startProcessMetrics() {
      if (!processMetrics) return;
      processMetrics = false;
      // The event loop is sampled every 100 ms, not every 10 ms: the default timer woke each idle process
      // 100 times a second (about 4 ms of CPU a second each); a stall of 100 ms or more is still seen.
      collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
    },
    close() {
      stopRpc();
      nats.stop();
    },
  };
}

/** Counts disconnects and reconnects from the connection's status events. */
function watchNats(nc: NatsConnection, registers: Registry[]): { stop(): void } {
  const disconnects = new Counter({
    name: "runnerly_nats_disconnects_total",
    help: "Times the NATS connection was lost.",
    registers,
  });
  const reconnects = new Counter({
    name: "runnerly_nats_reconnects_total",
    help: "Times the NATS connection was re-established after a loss.",
    registers,
  });
  // The iterator can be stopped (QueuedIterator), though the interface only says AsyncIterable.
  const status = nc.status() as AsyncIterable<Status> & { stop?: () => void };
  void (async () => {
    for await (const s of status) {
      if (s.type === "disconnect") disconnects.inc();
      else if (s.type === "reconnect") reconnects.inc();
    }
  })();
  return { stop: () => status.stop?.() };
}
