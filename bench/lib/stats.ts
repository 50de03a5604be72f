/**
 * The arithmetic of the report: medians over repeated runs, percentiles of
 * recorded latencies, and the ratios the targets are stated in.
 */

/**
 * The median of some numbers (mean of the middle two for an even count); NaN when empty.
 *
 * @example
 * median([3, 1, 2]); // 2
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The `p`-th percentile (0–100) of ascending-sorted values, nearest-rank
 * (the same definition wrk reports); NaN when empty.
 *
 * @example
 * percentile(Float64Array.from([1, 2, 3, 4]), 50); // 2
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/**
 * `a ÷ b`, or NaN when either side is missing or `b` is not positive
 * (a ratio against a failed measurement is no ratio).
 *
 * @example
 * ratio(45_000, 18_000); // 2.5
 */
export function ratio(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return Number.NaN;
  return a / b;
}

/**
 * The throughput a path can reach when each request costs one HTTP exchange
 * and one NATS request-reply on the same resources: the costs (1/rate) add,
 * so combined = 1 / (1/http + 1/nats).
 *
 * @example
 * combinedCeiling(100_000, 50_000); // 33_333.3…
 */
export function combinedCeiling(httpRps: number, natsRps: number): number {
  if (!(httpRps > 0) || !(natsRps > 0)) return Number.NaN;
  return 1 / (1 / httpRps + 1 / natsRps);
}
