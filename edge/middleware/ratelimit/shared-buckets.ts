/**
 * Token buckets every edge worker and instance shares, in a NATS KV bucket
 * (JetStream): one key per client and policy holding `{tokens, at}`, changed
 * only by compare-and-set on the key's revision, so two edges taking tokens
 * at once never both spend the same one (the loser reads again and retries).
 * The bucket lives in memory on the servers (replicated in a cluster):
 * losing it on a restart only refills every client's quota. Keys expire two
 * windows after their last change, when any bucket is full again anyway.
 * Web standards only (the NATS v3 clients).
 */
import { JetStreamApiCodes, JetStreamApiError, jetstream, StorageType } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import type { RatePolicy } from "./policy.ts";
import { type BucketState, take } from "./token-bucket.ts";

/** A key's value as last read or written, with its revision (0: the key does not exist). */
export type Snapshot = { revision: number; state: BucketState | null };

/** Where shared buckets live; the limiter only needs `take`. */
export interface SharedBuckets {
  /**
   * Atomically takes `forced` tokens (requests admitted already) and up to
   * `wanted` more from the bucket at `key`. `known` is the caller's last
   * snapshot: when it is still current the take costs one round trip.
   */
  take(
    key: string,
    policy: RatePolicy,
    forced: number,
    wanted: number,
    known: Snapshot | null,
  ): Promise<{ granted: number; snapshot: Snapshot }>;
}

export type KvBucketsOptions = {
  nc: NatsConnection;
  /** KV bucket name (`EDGE_RATE_LIMIT_BUCKET`). */
  bucket: string;
  /** Replicas when the edge creates the bucket (3 in a cluster). */
  replicas: number;
  /** The longest policy window: keys live two of them. */
  longestWindowMs: number;
  /** How long one KV operation may take before the limiter falls back to local buckets. */
  timeoutMs: number;
  /** Largest size of the bucket's stream; the oldest keys go first (they are the fullest buckets). */
  maxBytes?: number;
};

// Compare-and-set rounds before giving up on a key this busy (each lost round means another edge took tokens).
const MAX_ROUNDS = 8;

/**
 * Shared buckets in a NATS KV bucket, created on first use (or opened as it
 * is when another edge created it with other settings).
 *
 * @example
 * const shared = new KvBuckets({ nc, bucket: "edge_rate_limits", replicas: 1, longestWindowMs: 60_000, timeoutMs: 500 });
 * const { granted } = await shared.take("addr.3f…", policy, 0, 1, null);
 */
export class KvBuckets implements SharedBuckets {
  #kv: Promise<KV> | null = null;

  constructor(private readonly options: KvBucketsOptions) {}

  async take(key: string, policy: RatePolicy, forced: number, wanted: number, known: Snapshot | null) {
    const kv = await this.open();
    let current = known;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      current ??= await read(kv, key);
      const { granted, state } = take(current.state, policy, forced, wanted, Date.now());
      try {
        const value = JSON.stringify(state);
        const revision =
          current.revision === 0
            ? await kv.create(key, value)
            : await kv.update(key, value, current.revision);
        return { granted, snapshot: { revision, state } };
      } catch (err) {
        if (!isConflict(err)) throw err;
        current = null;
      }
    }
    throw new Error(`rate-limit key ${key} changed under every one of ${MAX_ROUNDS} attempts`);
  }

  private open(): Promise<KV> {
    const { nc, bucket, replicas, longestWindowMs, timeoutMs, maxBytes } = this.options;
    this.#kv ??= new Kvm(jetstream(nc, { timeout: timeoutMs }))
      .create(bucket, {
        history: 1,
        replicas,
        ttl: 2 * longestWindowMs,
        storage: StorageType.Memory,
        max_bytes: maxBytes ?? 64 * 1024 * 1024,
        timeout: timeoutMs,
      })
      .catch((err: unknown) => {
        // Try again on a later request (JetStream may come up, or permissions be fixed).
        this.#kv = null;
        throw err;
      });
    return this.#kv;
  }
}

async function read(kv: KV, key: string): Promise<Snapshot> {
  const entry = await kv.get(key);
  if (!entry) return { revision: 0, state: null };
  // A deleted key is recreated by `create`; a value we cannot read counts as a full bucket.
  if (entry.operation !== "PUT") return { revision: 0, state: null };
  return { revision: entry.revision, state: parseState(entry.string()) };
}

function parseState(text: string): BucketState | null {
  try {
    const v = JSON.parse(text) as Partial<BucketState>;
    return Number.isFinite(v.tokens) && Number.isFinite(v.at) ? (v as BucketState) : null;
  } catch {
    return null;
  }
}

/** Another writer changed the key since we read it. */
function isConflict(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
