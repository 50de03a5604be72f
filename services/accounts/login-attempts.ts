/**
 * Failed log-in counters shared by every accounts instance, in a NATS KV
 * bucket: one per (email, address), per address and per email, each changed
 * only by compare-and-set on its revision, so two instances never both let
 * through the attempt that should have been locked. An attempt is counted
 * as a failure when it is let in (so a burst of concurrent guesses finds the
 * lock too) and given back when the password was right; a refused attempt
 * counts for nothing. Keys hold hashes, never an email or an address.
 */
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { KvBucketDefinition, Logger } from "@runnerly/kit";
import {
  convertIPv4BinaryToString,
  convertIPv4MappedIPv6ToIPv4,
  convertIPv6ToBinary,
  distinctRemoteAddr,
  isIPv4MappedIPv6,
} from "hono/utils/ipaddr";
import {
  type FailureCounter,
  type LockPolicy,
  type LoginLimits,
  live,
  lockedFor,
  parseCounter,
  withFailure,
} from "./login-limits.ts";
import { MAX_FAILURE_WINDOW_S } from "./settings.ts";

/** The bucket of the counters; entries outlive the longest window a setting may ask for. */
export const LOGIN_FAILURES_BUCKET: KvBucketDefinition = {
  name: "accounts_login_failures",
  ttlMs: MAX_FAILURE_WINDOW_S * 1000,
};

/** Let in (the attempt is counted as a failure until `succeeded`), or refused for `retryAfterS`. */
export type Admission = { admitted: true; ticket: Ticket } | { admitted: false; retryAfterS: number };

/** What an admitted attempt wrote, so that a success can give it back. */
export type Ticket = { pair: Written; others: Written[] };
type Written = { key: string; revision: number; before: FailureCounter | null };
type Target = { key: string; policy: LockPolicy };
type Snapshot = { revision: number; counter: FailureCounter | null };

// Compare-and-set rounds before giving up on a key this busy.
const MAX_ROUNDS = 8;

export class LoginAttempts {
  constructor(
    private readonly kv: () => Promise<KV>,
    private readonly limits: LoginLimits,
    private readonly logger: Logger,
  ) {}

  /**
   * Lets an attempt in, counting it on its three keys, unless one of them is
   * locked. `email` is the normalised email; `address` the caller's, if known.
   */
  async admit(email: string, address: string | undefined): Promise<Admission> {
    const kv = await this.kv();
    const targets = await this.targets(email, address);
    const now = Date.now();
    const snapshots = await Promise.all(targets.map((t) => read(kv, t.key)));
    const wait = Math.max(
      ...snapshots.map((s) => lockedFor(live(s.counter, this.limits.windowMs, now), now)),
    );
    if (wait > 0) return refused(wait);
    const counted = await Promise.all(targets.map((t, i) => this.count(kv, t, snapshots[i]!)));
    const written = counted.filter((c): c is Written => "key" in c);
    if (written.length < counted.length) {
      // Another attempt locked a key meanwhile: this one is refused, and so counts for nothing.
      await Promise.all(written.map((w) => this.giveBack(kv, w)));
      return refused(Math.max(...counted.map((c) => ("lockedMs" in c ? c.lockedMs : 0))));
    }
    const [pair, ...others] = written as [Written, ...Written[]];
    return { admitted: true, ticket: { pair, others } };
  }

  /** The password was right: the (email, address) counter starts again, the others get their count back. */
  async succeeded(ticket: Ticket): Promise<void> {
    const kv = await this.kv();
    await Promise.all([
      kv
        .delete(ticket.pair.key)
        .catch((err: unknown) => this.logger.warn({ err: String(err) }, "pair reset")),
      ...ticket.others.map((w) => this.giveBack(kv, w)),
    ]);
  }

  private async targets(email: string, address: string | undefined): Promise<Target[]> {
    const [e, a] = await Promise.all([digest("email", email), digest("address", network(address))]);
    return [
      { key: `pair.${e}.${a}`, policy: this.limits.pair },
      { key: `addr.${a}`, policy: this.limits.address },
      { key: `acct.${e}`, policy: this.limits.account },
    ];
  }

  /** One more failure on `target` by compare-and-set, unless the key is (or becomes) locked. */
  private async count(kv: KV, target: Target, first: Snapshot): Promise<Written | { lockedMs: number }> {
    let snapshot: Snapshot | null = first;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      snapshot ??= await read(kv, target.key);
      const now = Date.now();
      const before = live(snapshot.counter, this.limits.windowMs, now);
      const lockedMs = lockedFor(before, now);
      if (lockedMs > 0) return { lockedMs };
      const value = JSON.stringify(withFailure(before, target.policy, this.limits.windowMs, now));
      try {
        const revision =
          snapshot.revision === 0
            ? await kv.create(target.key, value)
            : await kv.update(target.key, value, snapshot.revision);
        return { key: target.key, revision, before };
      } catch (err) {
        if (!isConflict(err)) throw err;
        snapshot = null;
      }
    }
    throw new Error(`login counter ${target.key} changed under every one of ${MAX_ROUNDS} attempts`);
  }

  /** Takes back one counted failure: the exact state before it when nothing wrote since, else one less. */
  private async giveBack(kv: KV, w: Written): Promise<void> {
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const now = await read(kv, w.key);
        if (now.revision === 0 || !now.counter) return;
        const restored: FailureCounter =
          now.revision === w.revision
            ? (w.before ?? { n: 0, at: now.counter.at, until: 0 })
            : { ...now.counter, n: Math.max(0, now.counter.n - 1) };
        try {
          await kv.update(w.key, JSON.stringify(restored), now.revision);
          return;
        } catch (err) {
          if (!isConflict(err)) throw err;
        }
      }
    } catch (err) {
      this.logger.warn({ err: String(err) }, "a counted log-in attempt could not be given back");
    }
  }
}

const refused = (ms: number): Admission => ({
  admitted: false,
  retryAfterS: Math.max(1, Math.ceil(ms / 1000)),
});

async function read(kv: KV, key: string): Promise<Snapshot> {
  const entry = await kv.get(key);
  // A deleted key (a success cleared it) is made again by `create`.
  if (!entry || entry.operation !== "PUT") return { revision: 0, counter: null };
  return { revision: entry.revision, counter: parseCounter(entry.string()) };
}

/**
 * What one caller's address counts as: an IPv4 address, an IPv6 /64 (one
 * subscriber's usual share, which a guesser could otherwise rotate through),
 * or `unknown` when the edge sent none.
 */
export function network(address: string | undefined): string {
  const a = address?.trim();
  if (!a) return "unknown";
  try {
    if (distinctRemoteAddr(a) !== "IPv6") return a;
    const bits = convertIPv6ToBinary(a);
    if (isIPv4MappedIPv6(bits)) return convertIPv4BinaryToString(convertIPv4MappedIPv6ToIPv4(bits));
    return `${(bits >> 64n).toString(16)}::/64`;
  } catch {
    return a;
  }
}

/** A key-safe digest: 128 bits of SHA-256, hex, over a label and the value. */
async function digest(label: string, value: string): Promise<string> {
  const bytes = new TextEncoder().encode(`runnerly-login:${label}:${value}`);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Another writer changed the key since it was read. */
function isConflict(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
