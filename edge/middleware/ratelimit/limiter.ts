/**
 * Decides whether a caller may make one more request under a policy, with a
 * token bucket per (policy, caller) shared by every edge through NATS KV and
 * a local fast path, so the common case waits for no round trip:
 *
 * - Fast path: a worker may admit requests on its own while its unconfirmed
 *   admissions stay below `localShare` (default 1/16) of the tokens the
 *   shared bucket held when it last heard from it. Each such admission is
 *   sent to the shared bucket in the background (coalesced: one take in
 *   flight per key).
 * - Slow path: past that allowance (a bucket under 16 tokens, or a burst), the
 *   request waits for a compare-and-set take on the shared bucket; requests
 *   arriving meanwhile are decided together by the next take.
 *
 * Over-admission bound: each worker's unconfirmed admissions never exceed
 * floor(limit × localShare), so across W workers serving one caller at once
 * at most W × floor(limit × localShare) requests beyond the quota get
 * through, and the shared bucket goes into debt for them (repaid before the
 * caller is admitted again). Buckets under 1/localShare tokens (e.g. a login
 * limit of 5) are exact. If the shared bucket fails, each worker limits alone
 * from its last view of it (then W workers may admit up to W quotas) and
 * tries the shared bucket again after `retrySharedAfterMs`. Web standards only.
 */
import type { Logger } from "@runnerly/kit/web";
import type { RatePolicy } from "./policy.ts";
import type { SharedBuckets, Snapshot } from "./shared-buckets.ts";
import { type BucketState, secondsUntil, take, tokensAt } from "./token-bucket.ts";

/** The answer for one request. */
export type Decision = {
  allowed: boolean;
  /** Requests left in the quota (the `RateLimit` field's `r`). */
  remaining: number;
  /** Seconds until the quota is whole again (`t`). */
  resetSeconds: number;
  /** When refused: seconds until a request would be admitted (`Retry-After`, at least 1). */
  retryAfterSeconds: number;
};

export type RateLimiterOptions = {
  /** The buckets every edge shares; null: this worker limits alone. */
  shared: SharedBuckets | null;
  logger: Logger;
  /** Part of the shared bucket a worker may admit from before it hears back (default 1/16). */
  localShare?: number;
  /** Pause after the shared buckets failed before they are tried again (default 5000 ms). */
  retrySharedAfterMs?: number;
  /** Callers remembered at most; the least recently seen are forgotten first (default 100000). */
  maxKeys?: number;
  now?: () => number;
};

// A waiting request's answer; null: the shared bucket failed, decide locally.
type Waiter = (decision: Decision | null) => void;

type Entry = {
  policy: RatePolicy;
  /** The shared bucket's key (a hash: addresses and user ids are not KV key material). */
  key: Promise<string>;
  snapshot: Snapshot | null;
  /** Admitted here, not yet taken from the shared bucket. */
  unsent: number;
  /** Admitted here, in the take under way. */
  sending: number;
  waiters: Waiter[];
  syncing: boolean;
  /** The bucket used while the shared one is unavailable. */
  local: BucketState | null;
};

/** How requests were decided so far, and shared takes under way (for tests and metrics). */
export type LimiterStats = {
  /** Decided here without waiting for NATS. */
  fast: number;
  /** Waited for a take on the shared bucket. */
  waited: number;
  /** Decided by a local bucket while the shared one was unavailable. */
  local: number;
  /** Keys with a shared take under way now. */
  syncing: number;
};

/** Token buckets per policy and caller; see the module comment for how they are shared. */
export class RateLimiter {
  readonly #entries = new Map<string, Entry>();
  readonly #shared: SharedBuckets | null;
  readonly #log: Logger;
  readonly #share: number;
  readonly #retryMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  #sharedDownUntil = 0;
  #sharedDown = false;
  readonly #stats: LimiterStats = { fast: 0, waited: 0, local: 0, syncing: 0 };

  constructor(options: RateLimiterOptions) {
    this.#shared = options.shared;
    this.#log = options.logger;
    this.#share = options.localShare ?? 1 / 16;
    this.#retryMs = options.retrySharedAfterMs ?? 5000;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Takes one request from `caller`'s bucket under `policy`.
   *
   * @example
   * const d = await limiter.check(policy, "addr:203.0.113.9");
   * if (!d.allowed) return tooMany(d.retryAfterSeconds);
   */
  async check(policy: RatePolicy, caller: string): Promise<Decision> {
    const now = this.#now();
    const entry = this.#entry(policy, caller);
    if (!this.#sharedUsable(now)) return this.#checkLocal(entry, now);
    const shared = tokensAt(entry.snapshot?.state ?? null, policy, now);
    const pending = entry.unsent + entry.sending;
    const allowance = entry.snapshot ? Math.floor(shared * this.#share) : 0;
    if (pending < allowance) {
      this.#stats.fast++;
      entry.unsent++;
      this.#sync(entry);
      return decide(true, shared - pending - 1, policy);
    }
    this.#stats.waited++;
    const decision = await new Promise<Decision | null>((resolve) => {
      entry.waiters.push(resolve);
      this.#sync(entry);
    });
    return decision ?? this.#checkLocal(entry, this.#now());
  }

  /** Keys currently remembered. */
  get size(): number {
    return this.#entries.size;
  }

  /** A copy of the counters. */
  get stats(): LimiterStats {
    return { ...this.#stats };
  }

  #entry(policy: RatePolicy, caller: string): Entry {
    const id = `${policy.name}\n${caller}`;
    let entry = this.#entries.get(id);
    if (entry) {
      // Re-inserted so the map's order is least recently seen first.
      this.#entries.delete(id);
    } else {
      const key = sharedKey(id, caller.slice(0, caller.indexOf(":")));
      // A failed hash leaves the entry local; never an unhandled rejection.
      key.catch(() => {});
      entry = {
        policy,
        key,
        snapshot: null,
        unsent: 0,
        sending: 0,
        waiters: [],
        syncing: false,
        local: null,
      };
      if (this.#entries.size >= this.#maxKeys) this.#forgetOldest();
    }
    this.#entries.set(id, entry);
    return entry;
  }

  #forgetOldest(): void {
    for (const [id, e] of this.#entries) {
      if (this.#entries.size < this.#maxKeys * 0.9) return;
      if (!e.syncing) this.#entries.delete(id);
    }
  }

  #checkLocal(entry: Entry, now: number): Decision {
    const { policy } = entry;
    this.#stats.local++;
    // Start from what the shared bucket last said, so a hiccup does not hand out a fresh quota.
    entry.local ??= {
      tokens: tokensAt(entry.snapshot?.state ?? null, policy, now) - entry.unsent - entry.sending,
      at: now,
    };
    const { granted, state } = take(entry.local, policy, 0, 1, now);
    entry.local = state;
    return decide(granted === 1, state.tokens, policy);
  }

  #sync(entry: Entry): void {
    if (entry.syncing) return;
    entry.syncing = true;
    this.#stats.syncing++;
    void this.#drain(entry).finally(() => {
      entry.syncing = false;
      this.#stats.syncing--;
    });
  }

  /** Sends admissions and decides waiters, one take at a time, until nothing is left. */
  async #drain(entry: Entry): Promise<void> {
    while (entry.unsent > 0 || entry.waiters.length > 0) {
      const waiters = entry.waiters.splice(0);
      const granted = await this.#takeShared(entry, waiters.length);
      if (granted === null) {
        // The shared bucket is unavailable: this key's admissions and waiters go local.
        this.#seedLocal(entry);
        for (const w of [...waiters, ...entry.waiters.splice(0)]) w(null);
        return;
      }
      const tokens = entry.snapshot?.state?.tokens ?? entry.policy.limit;
      for (const [i, w] of waiters.entries()) w(decide(i < granted, tokens, entry.policy));
    }
  }

  /** Applies the unsent admissions and asks for `wanted` tokens; null when the shared buckets failed or rest. */
  async #takeShared(entry: Entry, wanted: number): Promise<number | null> {
    if (!this.#shared || !this.#sharedUsable(this.#now())) return null;
    entry.sending = entry.unsent;
    entry.unsent = 0;
    try {
      const key = await entry.key;
      const result = await this.#shared.take(key, entry.policy, entry.sending, wanted, entry.snapshot);
      entry.snapshot = result.snapshot;
      entry.local = null;
      this.#sharedOk();
      return result.granted;
    } catch (err) {
      this.#sharedFailed(err);
      // Not applied, yet admitted: they count against the local bucket instead.
      entry.unsent += entry.sending;
      return null;
    } finally {
      entry.sending = 0;
    }
  }

  /** Seeds the local bucket from the last shared view minus unsent admissions, which it then owns. */
  #seedLocal(entry: Entry): void {
    const now = this.#now();
    entry.local = {
      tokens: tokensAt(entry.snapshot?.state ?? null, entry.policy, now) - entry.unsent,
      at: now,
    };
    entry.unsent = 0;
  }

  #sharedUsable(now: number): boolean {
    return this.#shared !== null && now >= this.#sharedDownUntil;
  }

  #sharedFailed(err: unknown): void {
    this.#sharedDownUntil = this.#now() + this.#retryMs;
    if (this.#sharedDown) return;
    this.#sharedDown = true;
    this.#log.warn(
      { err: err instanceof Error ? `${err.name}: ${err.message}` : String(err), retryInMs: this.#retryMs },
      "rate limits are local to this worker: the shared NATS KV bucket is unavailable",
    );
  }

  #sharedOk(): void {
    if (!this.#sharedDown) return;
    this.#sharedDown = false;
    this.#log.info({}, "rate limits are shared again through NATS KV");
  }
}

function decide(allowed: boolean, tokensLeft: number, policy: RatePolicy): Decision {
  return {
    allowed,
    remaining: Math.max(0, Math.floor(tokensLeft)),
    resetSeconds: secondsUntil(tokensLeft, policy.limit, policy),
    retryAfterSeconds: allowed ? 0 : Math.max(1, secondsUntil(tokensLeft, 1, policy)),
  };
}

/** `addr.<128-bit hash>` / `user.<…>`: valid KV key characters whatever the caller's id holds. */
async function sharedKey(id: string, kind: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id)));
  let hex = "";
  for (const b of digest.subarray(0, 16)) hex += b.toString(16).padStart(2, "0");
  return `${kind}.${hex}`;
}
