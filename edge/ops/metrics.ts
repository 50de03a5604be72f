/**
 * What the edge measures, behind a small interface so the core stays
 * web-standard: the Bun entry backs it with prom-client (`prom.ts`), other
 * runtimes can use the in-memory one here, which renders the same names in
 * the Prometheus text format (durations as a sum and a count).
 */
import type { CircuitStateName } from "../proxy/resilience/breaker.ts";

export type { CircuitStateName };

/** The edge's measurements. Label values: `service` is a service name, `none` (no route) or `edge`. */
export interface EdgeMetrics {
  /** A client request was answered. */
  request(service: string, method: string, status: number, seconds: number): void;
  /** One try was sent to a service; `outcome` is `2xx`…`5xx`, `timeout`, `no-responders`… */
  attempt(service: string, outcome: string): void;
  /** A retry is being made; `reason` is what the previous try ended in. */
  retry(service: string, reason: string): void;
  /** A retry was wanted and refused by the retry budget. */
  retryDenied(service: string): void;
  /** A service's circuit changed state. */
  circuit(service: string, state: CircuitStateName): void;
  /** An instance was ejected; `reason` is what its last try ended in (`timeout`, `503`, `no-responders`). */
  ejection(service: string, reason: string): void;
  /** A hedge went out beside a try that was slow to answer. */
  hedge(service: string): void;
  /** A stale copy stood in for a service that could not answer. */
  staleServed(service: string): void;
  /** The stale cache's size after a change. */
  cacheSize(entries: number, bytes: number): void;
  /** The Prometheus text exposition of everything above. */
  render(): Promise<string>;
  readonly contentType: string;
}

/** Metric names, shared by every implementation so dashboards do not depend on the runtime. */
export const MetricName = {
  requests: "edge_requests_total",
  duration: "edge_request_duration_seconds",
  attempts: "edge_attempts_total",
  retries: "edge_retries_total",
  retriesDenied: "edge_retries_denied_total",
  circuit: "edge_circuit_state",
  ejections: "edge_ejections_total",
  hedges: "edge_hedges_total",
  stale: "edge_cache_stale_served_total",
  cacheEntries: "edge_cache_entries",
  cacheBytes: "edge_cache_bytes",
} as const;

/** `edge_circuit_state` values. */
export const CIRCUIT_VALUE: Record<CircuitStateName, number> = {
  closed: 0,
  open: 1,
  "half-open": 2,
} as const;

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** A method label with bounded values: unknown methods are `OTHER`. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "OTHER";
}

/**
 * In-memory metrics for runtimes without prom-client, and for tests:
 * `value(name, labels)` reads one series.
 *
 * @example
 * const metrics = createMemoryMetrics();
 * const edge = createEdge({ nc, logger, metrics });
 * metrics.value("edge_retries_total", { service: "runs", reason: "timeout" });
 */
export function createMemoryMetrics(): EdgeMetrics & {
  value(name: string, labels?: Record<string, string>): number;
} {
  // name → serialised labels → value
  const series = new Map<string, Map<string, number>>();
  const key = (labels: Record<string, string>) =>
    Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`)
      .join(",");
  const add = (name: string, labels: Record<string, string>, by = 1) => {
    const m = series.get(name) ?? new Map<string, number>();
    series.set(name, m);
    m.set(key(labels), (m.get(key(labels)) ?? 0) + by);
  };
  const set = (name: string, labels: Record<string, string>, value: number) => {
    const m = series.get(name) ?? new Map<string, number>();
    series.set(name, m);
    m.set(key(labels), value);
  };

  return {
    contentType: "text/plain; version=0.0.4; charset=utf-8",
    request(service, method, status, seconds) {
      add(MetricName.requests, { service, method: methodLabel(method), status: String(status) });
      add(`${MetricName.duration}_sum`, { service }, seconds);
      add(`${MetricName.duration}_count`, { service });
    },
    attempt: (service, outcome) => add(MetricName.attempts, { service, outcome }),
    retry: (service, reason) => add(MetricName.retries, { service, reason }),
    retryDenied: (service) => add(MetricName.retriesDenied, { service }),
    circuit: (service, state) => set(MetricName.circuit, { service }, CIRCUIT_VALUE[state]),
    ejection: (service, reason) => add(MetricName.ejections, { service, reason }),
    hedge: (service) => add(MetricName.hedges, { service }),
    staleServed: (service) => add(MetricName.stale, { service }),
    cacheSize(entries, bytes) {
      set(MetricName.cacheEntries, {}, entries);
      set(MetricName.cacheBytes, {}, bytes);
    },
    async render() {
      const lines: string[] = [];
      for (const [name, m] of series) {
        for (const [labels, v] of m) lines.push(labels ? `${name}{${labels}} ${v}` : `${name} ${v}`);
      }
      return `${lines.join("\n")}\n`;
    },
    value(name, labels = {}) {
      return series.get(name)?.get(key(labels)) ?? 0;
    },
  };
}
