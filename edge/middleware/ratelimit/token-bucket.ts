/**
 * Token-bucket arithmetic, shared by the local and the NATS KV buckets. A
 * bucket is stored as the tokens it held at a moment; it refills at
 * `limit / window` per ms up to `limit`. It may go below zero (down to
 * `-limit`) when requests admitted elsewhere are applied late: that debt is
 * repaid before the client is admitted again, so over-admission evens out.
 * Web standards only.
 */
import type { RatePolicy } from "./policy.ts";

/** Tokens held at time `at` (Unix ms). */
export type BucketState = { tokens: number; at: number };

/** Tokens in a bucket at `now`; a bucket never seen is full. */
export function tokensAt(state: BucketState | null, policy: RatePolicy, now: number): number {
  if (!state) return policy.limit;
  // Another instance's clock may run ahead: time never flows backwards here.
  const elapsed = Math.max(0, now - state.at);
  return Math.min(policy.limit, state.tokens + (elapsed * policy.limit) / policy.windowMs);
}

/**
 * Takes `forced` tokens whatever is left (requests already admitted) and then
 * up to `wanted` more while whole tokens remain; returns how many of the
 * wanted were granted and the bucket after.
 *
 * @example
 * take(null, policy, 0, 1, Date.now()); // { granted: 1, state: { tokens: limit - 1, at: now } }
 */
export function take(
  state: BucketState | null,
  policy: RatePolicy,
  forced: number,
  wanted: number,
  now: number,
): { granted: number; state: BucketState } {
  const available = tokensAt(state, policy, now) - forced;
  const granted = Math.max(0, Math.min(wanted, Math.floor(available)));
  const tokens = Math.max(-policy.limit, available - granted);
  return { granted, state: { tokens, at: Math.max(now, state?.at ?? now) } };
}

/** Seconds until the bucket holds `needed` tokens (0 when it does already). */
export function secondsUntil(tokens: number, needed: number, policy: RatePolicy): number {
  if (tokens >= needed) return 0;
  return Math.ceil(((needed - tokens) * policy.windowMs) / policy.limit / 1000);
}
