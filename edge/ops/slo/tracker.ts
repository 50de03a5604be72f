/**
 * Measured service levels at the edge: per service, over rolling windows,
 * how many requests were answered, how many failed (a 5xx from the service
 * or the edge on its behalf: 502, 503, 504), how many took longer than the
 * declared p99, the error budget left against the declared availability, and
 * how fast it burns. Counts live in one-second slots of a ring, so a window's
 * figures are exact sums over its seconds. Web standards only.
 */
import type { ServiceLevels } from "@runnerly/kit/web";

/** A rolling window and the burn rate above which it flags a service. */
export type SloWindow = { name: string; ms: number };

export type SloOptions = {
  /** Windows to report, shortest first (default 5 min and 1 h). */
  windows?: SloWindow[];
  /** Burn rate over the shortest window that flags a service as burning its budget fast (default 14.4: a 30-day budget gone in 2 days). */
  fastBurnRate?: number;
  /** Requests the shortest window needs before a service can be flagged (default 20). */
  minRequests?: number;
  now?: () => number;
};

/** One window's figures for one service. */
export type WindowReport = {
  window: string;
  requests: number;
  failed: number;
  /** Percent answered without a server error; null without requests. */
  availability: number | null;
  /** Requests slower than the declared p99 (null without a latency objective). */
  slow: number | null;
  /** Percent of requests within the declared p99 (null without requests or objective). */
  withinLatency: number | null;
  /** Upper bound of the bucket holding the 99th percentile, in ms (30000 stands for "30 s or more"); null without requests. */
  p99Ms: number | null;
  /** Failures the objective allows in this window's traffic, minus those that happened; percent of the allowance left (may go below 0). */
  budgetRemaining: number | null;
  /** Error rate over the rate the objective allows: 1 spends the budget exactly over the objective's period. */
  burnRate: number | null;
};

export type ServiceReport = {
  service: string;
  objectives: ServiceLevels;
  windows: WindowReport[];
  /** Burning its budget fast (the shortest window's burn rate at or above the threshold). */
  burning: boolean;
  /** Whether the latency objective holds over the shortest window (null without objective or traffic). */
  latencyMet: boolean | null;
};

// Latency buckets in ms: p99 is reported as the upper bound of its bucket.
const BOUNDS = [
  5, 10, 25, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 30_000,
];

type Slot = { second: number; requests: number; failed: number; slow: number; buckets: number[] };

class ServiceSeries {
  readonly slots: Slot[];
  constructor(size: number) {
    this.slots = Array.from({ length: size }, () => ({
      second: -1,
      requests: 0,
      failed: 0,
      slow: 0,
      buckets: new Array(BOUNDS.length + 1).fill(0),
    }));
  }

  slot(second: number): Slot {
    const s = this.slots[second % this.slots.length]!;
    if (s.second !== second) {
      s.second = second;
      s.requests = 0;
      s.failed = 0;
      s.slow = 0;
      s.buckets.fill(0);
    }
    return s;
  }
}

/**
 * Counts requests per service and reports them against the declared objectives.
 *
 * @example
 * const slo = new SloTracker();
 * slo.record("runs", 503, 0.012, { availability: 99.9 });
 * slo.report((name) => levelsOf(name));
 */
export class SloTracker {
  readonly #series = new Map<string, ServiceSeries>();
  readonly #windows: SloWindow[];
  readonly #size: number;
  readonly #fastBurn: number;
  readonly #minRequests: number;
  readonly #now: () => number;

  constructor(options: SloOptions = {}) {
    this.#windows = [...(options.windows ?? DEFAULT_WINDOWS)].sort((a, b) => a.ms - b.ms);
    this.#size = Math.ceil(Math.max(...this.#windows.map((w) => w.ms)) / 1000) + 1;
    this.#fastBurn = options.fastBurnRate ?? 14.4;
    this.#minRequests = options.minRequests ?? 20;
    this.#now = options.now ?? Date.now;
  }

  /** Records one answered request of `service` (the edge's own routes and unrouted paths are not services). */
  record(service: string, status: number, seconds: number, levels: ServiceLevels = {}): void {
    let series = this.#series.get(service);
    if (!series) {
      series = new ServiceSeries(this.#size);
      this.#series.set(service, series);
    }
    const slot = series.slot(Math.floor(this.#now() / 1000));
    const ms = seconds * 1000;
    slot.requests++;
    if (status >= 500) slot.failed++;
    if (levels.latencyP99Ms !== undefined && ms > levels.latencyP99Ms) slot.slow++;
    let b = 0;
    while (b < BOUNDS.length && ms > BOUNDS[b]!) b++;
    slot.buckets[b]!++;
  }

  /**
   * Each service's counts per window (in the order of the windows, shortest
   * first) over the seconds up to `through` (default: now, its second so far
   * included). Counts add up: the workers of one edge sum theirs.
   */
  counts(through: number = Math.floor(this.#now() / 1000)): SloCounts {
    const out: SloCounts = {};
    for (const [service, series] of this.#series) {
      out[service] = this.#windows.map((w) =>
        windowCounts(series, through - Math.ceil(w.ms / 1000) + 1, through),
      );
    }
    return out;
  }

  /** Every service seen (or just `only`), with its figures per window against `levelsOf(service)`. */
  report(levelsOf: (service: string) => ServiceLevels, only?: string): ServiceReport[] {
    return this.reportOf([this.counts()], levelsOf, only);
  }

  /**
   * The report of counts summed over several trackers (the workers of one
   * edge), in the order given so every worker adds them up alike.
   *
   * @example
   * slo.reportOf([slo.counts(t), sibling.counts(t)], levelsOf);
   */
  reportOf(all: SloCounts[], levelsOf: (service: string) => ServiceLevels, only?: string): ServiceReport[] {
    const summed = new Map<string, WindowCounts[]>();
    for (const counts of all) {
      for (const [service, windows] of Object.entries(counts)) {
        if (only !== undefined && service !== only) continue;
        const into = summed.get(service) ?? this.#windows.map(() => emptyCounts());
        windows.forEach((w, i) => {
          if (into[i]) addCounts(into[i], w);
        });
        summed.set(service, into);
      }
    }
    return [...summed.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([service, counts]) => {
        const objectives = levelsOf(service);
        const windows = this.#windows.map((w, i) => windowReport(w, counts[i] ?? emptyCounts(), objectives));
        const shortest = windows[0];
        const burning =
          shortest !== undefined &&
          shortest.requests >= this.#minRequests &&
          shortest.burnRate !== null &&
          shortest.burnRate >= this.#fastBurn;
        const latencyMet =
          shortest?.withinLatency === null || shortest?.withinLatency === undefined
            ? null
            : shortest.withinLatency >= 99;
        return { service, objectives, windows, burning, latencyMet };
      });
  }
}

/** One window's counts for one service: they add up across the workers of an edge. */
export type WindowCounts = { requests: number; failed: number; slow: number; buckets: number[] };

/** Per service, its counts per window (shortest first). */
export type SloCounts = Record<string, WindowCounts[]>;

const emptyCounts = (): WindowCounts => ({
  requests: 0,
  failed: 0,
  slow: 0,
  buckets: new Array(BOUNDS.length + 1).fill(0),
});

function addCounts(into: WindowCounts, w: WindowCounts): void {
  into.requests += w.requests;
  into.failed += w.failed;
  into.slow += w.slow;
  w.buckets.forEach((n, i) => {
    if (i < into.buckets.length) into.buckets[i]! += n;
  });
}

function windowCounts(series: ServiceSeries, from: number, through: number): WindowCounts {
  const c = emptyCounts();
  for (const s of series.slots) {
    if (s.second < from || s.second > through) continue;
    addCounts(c, s);
  }
  return c;
}

const DEFAULT_WINDOWS: SloWindow[] = [
  { name: "5m", ms: 300_000 },
  { name: "1h", ms: 3_600_000 },
];

function windowReport(w: SloWindow, c: WindowCounts, o: ServiceLevels): WindowReport {
  const { requests, failed, slow, buckets } = c;
  const errorRate = requests > 0 ? failed / requests : null;
  const allowed = o.availability !== undefined ? 1 - o.availability / 100 : null;
  return {
    window: w.name,
    requests,
    failed,
    availability: errorRate === null ? null : round((1 - errorRate) * 100),
    slow: o.latencyP99Ms === undefined ? null : slow,
    withinLatency:
      o.latencyP99Ms === undefined || requests === 0 ? null : round(((requests - slow) / requests) * 100),
    p99Ms: requests === 0 ? null : p99(buckets, requests),
    budgetRemaining:
      allowed === null || errorRate === null ? null : round((1 - failed / (allowed * requests)) * 100),
    burnRate: allowed === null || errorRate === null ? null : round(errorRate / allowed),
  };
}

function p99(buckets: number[], total: number): number {
  const target = Math.ceil(total * 0.99);
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]!;
    if (seen >= target) return BOUNDS[Math.min(i, BOUNDS.length - 1)]!;
  }
  return BOUNDS[BOUNDS.length - 1]!;
}

/** Six significant decimals: figures stay exact enough to compare, and readable. */
function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
