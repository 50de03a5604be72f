/**
 * Per-service figures over a short rolling window: requests per second, the
 * share of errors, the mean and the 99th percentile of latency. One-second
 * buckets, and a log-scale histogram per bucket (each bin 15 % wider than the
 * one before), so memory stays fixed however busy a service is and the p99
 * is within 15 % of the true value. Web standards only.
 */

/** What one record adds: `latencyMs` (one request's time) also feeds the percentile. */
export type Sample = { requests: number; errors: number; totalMs: number; latencyMs?: number };

export type WindowFigures = {
  requests: number;
  requestsPerSecond: number;
  /** errors / requests; null without requests. */
  errorRate: number | null;
  averageMs: number | null;
  /** From the samples that had `latencyMs`; null without any. */
  p99Ms: number | null;
};

type Bucket = { second: number; requests: number; errors: number; totalMs: number; bins: Uint32Array | null };

const MIN_MS = 0.1;
const GROWTH = 1.15;
const BINS = 110; // 0.1 ms · 1.15^110 ≈ 470 s: anything slower lands in the last bin

function binOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  return Math.min(BINS - 1, Math.ceil(Math.log(ms / MIN_MS) / Math.log(GROWTH)));
}

/** The upper bound of a bin, so a percentile is never reported lower than it was. */
function upperMs(bin: number): number {
  return MIN_MS * GROWTH ** bin;
}

/**
 * Rolling windows keyed by service name.
 *
 * @example
 * const w = new RollingWindow(10);
 * w.record("runs", { requests: 1, errors: 0, totalMs: 12, latencyMs: 12 });
 * w.figures("runs").p99Ms; // ≈ 12
 */
export class RollingWindow {
  readonly #seconds: number;
  readonly #now: () => number;
  readonly #since: number;
  readonly #rings = new Map<string, Bucket[]>();

  constructor(seconds: number, now: () => number = Date.now) {
    this.#seconds = seconds;
    this.#now = now;
    this.#since = now();
  }

  get seconds(): number {
    return this.#seconds;
  }

  record(key: string, sample: Sample): void {
    const second = Math.floor(this.#now() / 1000);
    let ring = this.#rings.get(key);
    if (!ring) {
      ring = [];
      this.#rings.set(key, ring);
    }
    let bucket = ring[second % this.#seconds];
    if (!bucket || bucket.second !== second) {
      bucket = { second, requests: 0, errors: 0, totalMs: 0, bins: null };
      ring[second % this.#seconds] = bucket;
    }
    bucket.requests += sample.requests;
    bucket.errors += sample.errors;
    bucket.totalMs += sample.totalMs;
    if (sample.latencyMs !== undefined) {
      bucket.bins ??= new Uint32Array(BINS);
      bucket.bins[binOf(sample.latencyMs)]! += 1;
    }
  }

  figures(key: string): WindowFigures {
    const now = this.#now();
    const second = Math.floor(now / 1000);
    let requests = 0;
    let errors = 0;
    let totalMs = 0;
    const bins = new Uint32Array(BINS);
    let timed = 0;
    for (const b of this.#rings.get(key) ?? []) {
      if (!b || b.second <= second - this.#seconds) continue;
      requests += b.requests;
      errors += b.errors;
      totalMs += b.totalMs;
      if (!b.bins) continue;
      for (let i = 0; i < BINS; i++) {
        bins[i]! += b.bins[i]!;
        timed += b.bins[i]!;
      }
    }
    // A window younger than its length (just started) is divided by what it has seen.
    const span = Math.max(1, Math.min(this.#seconds, (now - this.#since) / 1000));
    return {
      requests,
      requestsPerSecond: requests / span,
      errorRate: requests > 0 ? errors / requests : null,
      averageMs: requests > 0 ? totalMs / requests : null,
      p99Ms: timed > 0 ? percentile(bins, timed, 0.99) : null,
    };
  }

  /** Forgets keys with nothing in the window (services long gone). */
  prune(): void {
    const oldest = Math.floor(this.#now() / 1000) - this.#seconds;
    for (const [key, ring] of this.#rings) {
      if (ring.every((b) => !b || b.second <= oldest)) this.#rings.delete(key);
    }
  }
}

function percentile(bins: Uint32Array, total: number, q: number): number {
  const rank = Math.ceil(total * q);
  let seen = 0;
  for (let i = 0; i < BINS; i++) {
    seen += bins[i]!;
    if (seen >= rank) return upperMs(i);
  }
  return upperMs(BINS - 1);
}
