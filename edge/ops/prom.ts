/**
 * The edge's metrics on prom-client, for the Bun entry (prom-client uses Node
 * APIs, so the web-standard core never imports this file). Same names as the
 * in-memory implementation: see `MetricName` in metrics.ts.
 */
import { prom } from "@runnerly/kit";
import { CIRCUIT_VALUE, type EdgeMetrics, MetricName, methodLabel } from "./metrics.ts";

export type PromMetricsOptions = {
  /** Registry to register in (default: a new one, so several edges in one process do not clash). */
  registry?: prom.Registry;
  /** Latency histogram buckets, in seconds. */
  buckets?: number[];
};

const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * EdgeMetrics backed by prom-client; `registry` is exposed for process-level
 * collectors (e.g. `collectDefaultMetrics({ register: metrics.registry })`).
 *
 * @example
 * const metrics = createPromMetrics();
 * const edge = createEdge({ nc, logger, metrics });
 * // GET /metrics now serves metrics.render()
 */
export function createPromMetrics(
  options: PromMetricsOptions = {},
): EdgeMetrics & { registry: prom.Registry } {
  const registry = options.registry ?? new prom.Registry();
  const registers = [registry];
  const requests = new prom.Counter({
    name: MetricName.requests,
    help: "Client requests answered by the edge, by service, method and status.",
    labelNames: ["service", "method", "status"] as const,
    registers,
  });
  const duration = new prom.Histogram({
    name: MetricName.duration,
    help: "Time from request to response at the edge, retries included.",
    labelNames: ["service"] as const,
    buckets: options.buckets ?? DEFAULT_BUCKETS,
    registers,
  });
  const attempts = new prom.Counter({
    name: MetricName.attempts,
    help: "Tries sent to services, by outcome (status class, timeout, no-responders...).",
    labelNames: ["service", "outcome"] as const,
    registers,
  });
  const retries = new prom.Counter({
    name: MetricName.retries,
    help: "Retries made, by the outcome of the try before.",
    labelNames: ["service", "reason"] as const,
    registers,
  });
  const retriesDenied = new prom.Counter({
    name: MetricName.retriesDenied,
    help: "Retries refused by the retry budget.",
    labelNames: ["service"] as const,
    registers,
  });
  const circuit = new prom.Gauge({
    name: MetricName.circuit,
    help: "Circuit breaker state per service: 0 closed, 1 open, 2 half-open.",
    labelNames: ["service"] as const,
    registers,
  });
  const ejections = new prom.Counter({
    name: MetricName.ejections,
    help: "Instances ejected by outlier detection, by the outcome of their last try.",
    labelNames: ["service", "reason"] as const,
    registers,
  });
  const hedges = new prom.Counter({
    name: MetricName.hedges,
    help: "Hedges sent beside tries that had not answered within the hedge delay.",
    labelNames: ["service"] as const,
    registers,
  });
  const stale = new prom.Counter({
    name: MetricName.stale,
    help: "Stale cached responses served while a service could not answer.",
    labelNames: ["service"] as const,
    registers,
  });
  const entries = new prom.Gauge({
    name: MetricName.cacheEntries,
    help: "Responses in the stale cache.",
    registers,
  });
  const bytes = new prom.Gauge({
    name: MetricName.cacheBytes,
    help: "Bytes held by the stale cache.",
    registers,
  });

  return {
    registry,
    contentType: registry.contentType,
    request(service, method, status, seconds) {
      requests.inc({ service, method: methodLabel(method), status: String(status) });
      duration.observe({ service }, seconds);
    },
    attempt: (service, outcome) => attempts.inc({ service, outcome }),
    retry: (service, reason) => retries.inc({ service, reason }),
    retryDenied: (service) => retriesDenied.inc({ service }),
    circuit: (service, state) => circuit.set({ service }, CIRCUIT_VALUE[state]),
    ejection: (service, reason) => ejections.inc({ service, reason }),
    hedge: (service) => hedges.inc({ service }),
    staleServed: (service) => stale.inc({ service }),
    cacheSize(n, b) {
      entries.set(n);
      bytes.set(b);
    },
    render: () => registry.metrics(),
  };
}
