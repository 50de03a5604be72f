/**
 * The failed log-in policy, as pure arithmetic on one counter: a number of
 * failures in a row, when the last one was, and until when the counter's key
 * is locked. Each key (an email from one address, an address, an email) has
 * its own counter and its own `LockPolicy`; login-attempts.ts keeps them in
 * NATS KV. No Hono, NATS or database here.
 */

/** One counter's lock rule: `free` failures answered at once, then locks of base, 2×base, 4×base… up to max. */
export type LockPolicy = { free: number; baseMs: number; maxMs: number };

/** The three counters' rules and how long a counter outlives its last failure. */
export type LoginLimits = {
  /** One email from one address. */
  pair: LockPolicy;
  /** One address, whatever the emails (password spraying). */
  address: LockPolicy;
  /** One email from every address (a distributed attack); a short cap, so its owner is only slowed. */
  account: LockPolicy;
  windowMs: number;
};

/** A counter as stored: failures `n`, the last failure `at`, locked until `until` (Unix ms; 0: not locked). */
export type FailureCounter = { n: number; at: number; until: number };

/**
 * How long the key is locked after its `n`th failure in a row: nothing for
 * the first `free - 1`, then `baseMs` after the `free`th, doubling with each
 * further one up to `maxMs`. With free = 5 and 1 s, the sixth try waits 1 s.
 *
 * @example
 * lockAfter({ free: 5, baseMs: 1000, maxMs: 900_000 }, 7); // 4000
 */
export function lockAfter(policy: LockPolicy, n: number): number {
  if (n < policy.free) return 0;
  return Math.min(policy.baseMs * 2 ** (n - policy.free), policy.maxMs);
}

/**
 * The counter as it stands at `now`: null when there is none or its last
 * failure is older than the window (forgotten).
 *
 * @example
 * live({ n: 3, at: 0, until: 0 }, 3_600_000, Date.now()); // null: an hour has passed
 */
export function live(counter: FailureCounter | null, windowMs: number, now: number): FailureCounter | null {
  if (!counter || now - counter.at > windowMs) return null;
  return counter;
}

/** Milliseconds until the counter's key may try again (0: it may now). */
export function lockedFor(counter: FailureCounter | null, now: number): number {
  return counter ? Math.max(0, counter.until - now) : 0;
}

/**
 * The counter with one more failure at `now`, locked as the policy says.
 *
 * @example
 * withFailure(null, policy, 3_600_000, Date.now()); // { n: 1, at: now, until: 0 }
 */
export function withFailure(
  counter: FailureCounter | null,
  policy: LockPolicy,
  windowMs: number,
  now: number,
): FailureCounter {
  const n = (live(counter, windowMs, now)?.n ?? 0) + 1;
  const lock = lockAfter(policy, n);
  return { n, at: now, until: lock > 0 ? now + lock : 0 };
}

/** Reads a stored counter; anything unreadable counts as no counter. */
export function parseCounter(text: string): FailureCounter | null {
  try {
    const v = JSON.parse(text) as Partial<FailureCounter>;
    return Number.isInteger(v.n) && Number.isFinite(v.at) && Number.isFinite(v.until)
      ? (v as FailureCounter)
      : null;
  } catch {
    return null;
  }
}
