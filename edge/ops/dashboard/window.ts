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

/**
 * One second of a window as the workers of one edge exchange it: the
 * histogram as `[bin, count]` pairs of its non-empty bins.
 */
export type Cell = {
  second: number;
  requests: number;
  errors: number;
  totalMs: number;
  bins: [number, number][];
};

const MIN_MS = 0.1;
const GROWTH = 1.15;
const BINS = 110; // 0.1 ms · 1.15^110 ≈ 470 s: anything slower lands in the last bin

/** The histogram bin of a latency. */
export function binOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  return Math.min(BINS - 1, Math.ceil(Math.log(ms / MIN_MS) / Math.log(GROWTH)));
}

/** The upper bound of a bin, so a percentile is never reported lower than it was. */
export function upperMs(bin: number): number {
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
    // Two slots more than the window: the current second never overwrites one a pool still sums.
    const slot = second % (this.#seconds + 2);
    let bucket = ring[slot];
    if (!bucket || bucket.second !== second) {
      bucket = { second, requests: 0, errors: 0, totalMs: 0, bins: null };
      ring[slot] = bucket;
    }
    bucket.requests += sample.requests;
    bucket.errors += sample.errors;
    bucket.totalMs += sample.totalMs;
    if (sample.latencyMs !== undefined) {
      bucket.bins ??= new Uint32Array(BINS);
      bucket.bins[binOf(sample.latencyMs)]! += 1;
    }
  }

  /** When it started counting (ms): a younger window divides by what it has seen. */
  get since(): number {
    return this.#since;
  }

  figures(key: string): WindowFigures {
    const now = this.#now();
    const second = Math.floor(now / 1000);
    // A window younger than its length (just started) is divided by what it has seen.
    const span = Math.max(1, Math.min(this.#seconds, (now - this.#since) / 1000));
    return figuresOf(this.#cellsOf(key, second), span);
  }

  /** Every key's seconds in the window that ends with second `through` (whole seconds since the epoch). */
  cells(through: number): Record<string, Cell[]> {
    const out: Record<string, Cell[]> = {};
    for (const key of this.#rings.keys()) {
      const cells = this.#cellsOf(key, through);
      if (cells.length) out[key] = cells;
    }
    return out;
  }

  #cellsOf(key: string, through: number): Cell[] {
    const cells: Cell[] = [];
    for (const b of this.#rings.get(key) ?? []) {
      if (!b || b.second <= through - this.#seconds || b.second > through) continue;
      const bins: [number, number][] = [];
      if (b.bins) for (let i = 0; i < BINS; i++) if (b.bins[i]) bins.push([i, b.bins[i]!]);
      cells.push({ second: b.second, requests: b.requests, errors: b.errors, totalMs: b.totalMs, bins });
    }
    return cells.sort((a, b) => a.second - b.second);
  }

  /** Forgets keys with nothing in the window (services long gone). */
  prune(): void {
    const oldest = Math.floor(this.#now() / 1000) - this.#seconds;
    for (const [key, ring] of this.#rings) {
      if (ring.every((b) => !b || b.second <= oldest)) this.#rings.delete(key);
    }
  }
}

/**
 * The figures of cells (one worker's or several's), over `spanSeconds`.
 *
 * @example
 * figuresOf([...mine.cells(t).runs, ...theirs.runs], 10).requestsPerSecond;
 */
export function figuresOf(cells: readonly Cell[], spanSeconds: number): WindowFigures {
  let requests = 0;
  let errors = 0;
  let totalMs = 0;
  const bins = new Uint32Array(BINS);
  let timed = 0;
  for (const c of cells) {
    requests += c.requests;
    errors += c.errors;
    totalMs += c.totalMs;
    for (const [bin, n] of c.bins) {
      if (bin < 0 || bin >= BINS) continue;
      bins[bin]! += n;
      timed += n;
    }
  }
  return {
    requests,
    requestsPerSecond: requests / spanSeconds,
    errorRate: requests > 0 ? errors / requests : null,
    averageMs: requests > 0 ? totalMs / requests : null,
    p99Ms: timed > 0 ? percentile(bins, timed, 0.99) : null,
  };
}

/** The 99th percentile of `[bin, count]` pairs; null without any. */
export function p99OfBins(pairs: readonly [number, number][]): number | null {
  const bins = new Uint32Array(BINS);
  let total = 0;
  for (const [bin, n] of pairs) {
    if (bin < 0 || bin >= BINS) continue;
    bins[bin]! += n;
    total += n;
  }
  return total > 0 ? percentile(bins, total, 0.99) : null;
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
