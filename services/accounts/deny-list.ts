/**
 * The edges' deny list of ended sessions, fed from the accounts database: a
 * revocation is recorded in the transaction that revokes its family
 * (sessions.ts), and this relay puts every recorded one into the
 * `revoked_sessions` KV bucket, marking it stored once the bucket has
 * acknowledged it. A revocation made while NATS or JetStream is away is kept
 * and stored when they are back, by this instance or any other on the same
 * database (an outbox of its own: the entries are KV keys, not events).
 */
import type { KV } from "@nats-io/kv";
import {
  type BackgroundTask,
  encodeRevocation,
  type KvBucketDefinition,
  type Logger,
  REVOCATION_MARGIN_S,
  REVOKED_SESSIONS_BUCKET,
  type Store,
} from "@runnerly/kit";
import { and, eq, inArray, isNotNull, isNull, lt } from "drizzle-orm";
import * as schema from "./db/schema.ts";

type Schema = typeof schema;
const { sessionRevocations } = schema;

/**
 * The bucket of revoked sessions: an entry lives as long as a token of its
 * session could (the access-token lifetime and a margin for clock skew). The
 * lifetime is read when the bucket is opened, not when the service module is
 * imported, so a bad setting stops a start with the settings' own message.
 *
 * @example
 * defineService({ kvBuckets: [revokedSessionsBucket(() => 900)], … });
 */
export function revokedSessionsBucket(accessTokenTtlS: () => number): KvBucketDefinition {
  return {
    name: REVOKED_SESSIONS_BUCKET,
    get ttlMs() {
      return (accessTokenTtlS() + REVOCATION_MARGIN_S) * 1000;
    },
  };
}

export type DenyListOptions = {
  store: Store<Schema>;
  /** Opens the bucket (the kit's `openKvBucket`); called again after a failure. */
  open: () => Promise<KV>;
  logger: Logger;
  /** Pause between two looks for revocations not stored yet (default 1000 ms). */
  pollMs?: number;
};

/** Revocations stored per pass at most. */
const BATCH = 256;
/** Least time between two deletions of expired rows. */
const SWEEP_MS = 60_000;
/** Pause before trying again when a pass failed within `confirm`. */
const RETRY_MS = 100;

/**
 * Stores recorded revocations in the KV bucket: at once when asked (`wake`,
 * `confirm`), and on a timer for those a failure left behind. Rows whose
 * `until` has passed are deleted (no token of theirs can be valid).
 *
 * @example
 * const denyList = new DenyList({ store, open, logger });
 * denyList.start();
 * if (!(await denyList.confirm(sessionId, 3000))) throw new MeshError(503, { … });
 */
export class DenyList implements BackgroundTask {
  readonly #o: Required<DenyListOptions>;
  #running: Promise<void> | null = null;
  #requested = false;
  #timer: ReturnType<typeof setInterval> | null = null;
  #failing = false;
  #sweptAt = 0;

  constructor(options: DenyListOptions) {
    this.#o = { pollMs: 1000, ...options };
  }

  start(): void {
    this.wake();
    this.#timer = setInterval(() => this.wake(), this.#o.pollMs);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => {});
  }

  /** Stores what is pending, in the background (a failure is retried by the timer). */
  wake(): void {
    this.flush().catch(() => {});
  }

  /**
   * Stores what is pending; settles after a pass that began after this call.
   * One pass runs at a time; callers during a pass share the next one.
   */
  flush(): Promise<void> {
    this.#requested = true;
    this.#running ??= (async () => {
      try {
        while (this.#requested) {
          this.#requested = false;
          await this.#pass();
        }
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  /**
   * Whether the bucket holds the revocation of `sessionId`, storing it first
   * if need be, within `timeoutMs`. True also when nothing is recorded for it
   * (never revoked here, or expired: then no token of it is valid anyway).
   */
  async confirm(sessionId: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await this.#stored(sessionId)) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const outOfTime = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, left);
      });
      const pass = this.flush().catch(() => new Promise<void>((r) => setTimeout(r, RETRY_MS)));
      await Promise.race([pass, outOfTime]);
      clearTimeout(timer);
    }
  }

  async #stored(sessionId: string): Promise<boolean> {
    const row = await this.#o.store.db
      .select({ storedAt: sessionRevocations.storedAt })
      .from(sessionRevocations)
      .where(eq(sessionRevocations.familyId, sessionId))
      .get();
    return !row || row.storedAt !== null;
  }

  async #pass(): Promise<void> {
    const { store, open, logger } = this.#o;
    const pending = await store.db
      .select()
      .from(sessionRevocations)
      .where(isNull(sessionRevocations.storedAt))
      .limit(BATCH)
      .all();
    const now = Date.now();
    if (pending.length > 0) {
      try {
        const kv = await open();
        // An expired one needs no entry: no token of it is valid any more.
        const live = pending.filter((row) => row.until > now);
        await Promise.all(live.map((row) => kv.put(row.familyId, encodeRevocation({ until: row.until }))));
        const ids = pending.map((row) => row.familyId);
        await store.write((tx) =>
          tx
            .update(sessionRevocations)
            .set({ storedAt: Date.now() })
            .where(inArray(sessionRevocations.familyId, ids))
            .run(),
        );
        if (this.#failing) logger.info({ bucket: REVOKED_SESSIONS_BUCKET }, "revoked sessions stored again");
        this.#failing = false;
      } catch (err) {
        if (!this.#failing)
          logger.error(
            { err: String(err), bucket: REVOKED_SESSIONS_BUCKET, pending: pending.length },
            "cannot store revoked sessions in the deny list; retrying (their access tokens stay valid at the edges meanwhile)",
          );
        this.#failing = true;
        throw err;
      }
      if (pending.length === BATCH) this.#requested = true;
    }
    if (now - this.#sweptAt >= SWEEP_MS) {
      this.#sweptAt = now;
      await store.write((tx) =>
        tx
          .delete(sessionRevocations)
          .where(and(lt(sessionRevocations.until, now), isNotNull(sessionRevocations.storedAt)))
          .run(),
      );
    }
  }
}
