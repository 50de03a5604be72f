/**
 * The outbox relay: publishes committed events to JetStream with
 * `Nats-Msg-Id` = event id, awaits each PubAck, then marks the rows sent. It
 * wakes at once after a commit, batches a backlog (pipelining one event per
 * aggregate at a time, so each aggregate's events keep their order), backs off
 * while NATS is down, and holds a lease so one instance of a service relays at
 * a time. Nothing is lost: a row stays unsent until the stream acknowledged it,
 * and a re-publish inside the duplicate window is dropped by the stream.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { and, asc, count, eq, isNull, lt, min, or, sql } from "drizzle-orm";
import { type Db, preparedPer, type Store } from "../db/index.ts";
import type { Logger } from "../log/logger.ts";
import { MeshHeaders } from "../protocol/index.ts";
import { Attr, extractContext, failSpan, injectContext, SpanKind, startSpan } from "../trace/index.ts";
import { StreamPublisher } from "./stream-publish.ts";
import { outbox, relayLease } from "./tables.ts";

export type RelayOptions = {
  store: Store<Record<string, unknown>>;
  /** The connection it publishes on (to the streams that capture the events' subjects). */
  nc: NatsConnection;
  logger: Logger;
  /** This instance's id (lease owner). */
  owner: string;
  batchSize?: number;
  /** Poll interval when idle (a commit wakes the relay earlier). */
  pollMs?: number;
  /** Lease duration; another instance takes over this long after a leader dies. */
  leaseMs?: number;
  publishTimeoutMs?: number;
  maxBackoffMs?: number;
};

type Row = typeof outbox.$inferSelect;
type AnyDb = Db<Record<string, unknown>>;

// Read and written for every batch: compiled once per store (db/prepared.ts).
const unsentRows = preparedPer((db: AnyDb) =>
  db
    .select()
    .from(outbox)
    .where(isNull(outbox.sentAt))
    .orderBy(asc(outbox.seq))
    .limit(sql.placeholder("limit"))
    .prepare(),
);
// The batch's sequence numbers go as one JSON array, so that any number of them fits one statement.
const markSent = preparedPer((db: AnyDb) =>
  db
    .update(outbox)
    .set({ sentAt: sql`${sql.placeholder("at")}` })
    .where(
      and(
        sql`${outbox.seq} in (select value from json_each(${sql.placeholder("seqs")}))`,
        isNull(outbox.sentAt),
      ),
    )
    .prepare(),
);

// The same when the batch is every unsent row from its first to its last: a range of the key.
const markRangeSent = preparedPer((db: AnyDb) =>
  db
    .update(outbox)
    .set({ sentAt: sql`${sql.placeholder("at")}` })
    .where(
      and(
        sql`${outbox.seq} >= ${sql.placeholder("first")}`,
        sql`${outbox.seq} <= ${sql.placeholder("last")}`,
        isNull(outbox.sentAt),
      ),
    )
    .prepare(),
);

export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private kicked = false;
  private failures = 0;
  /** Until when this instance holds the relay lease (0: it doesn't). */
  private leaseUntil = 0;
  /** Events published since start (for metrics and tests). */
  published = 0;
  readonly #streams: StreamPublisher;

  constructor(private readonly o: RelayOptions) {
    this.#streams = new StreamPublisher(o.nc);
  }

  /** Starts relaying in the background. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Wakes the relay now (called after a transaction with events commits). */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** Unsent events and the age of the oldest, for metrics and dashboards. */
  async backlog(): Promise<{ count: number; oldestAgeMs: number }> {
    const db = this.o.store.db as AnyDb;
    const row = await db
      .select({ n: count(), oldest: min(outbox.createdAt) })
      .from(outbox)
      .where(isNull(outbox.sentAt))
      .get();
    return { count: row?.n ?? 0, oldestAgeMs: row?.oldest ? Date.now() - row.oldest : 0 };
  }

  /** Publishes what it can within `ms`, then stops and releases the lease. */
  async stop(ms = 2000): Promise<void> {
    if (!this.running) return;
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && this.failures === 0 && (await this.backlog()).count > 0) {
      this.kick();
      await new Promise((r) => setTimeout(r, 10));
    }
    this.running = false;
    this.kick();
    await this.loop;
    await this.o.store
      .write((tx) =>
        (tx as AnyDb).update(relayLease).set({ until: 0 }).where(eq(relayLease.owner, this.o.owner)).run(),
      )
      .catch(() => {});
  }

  private async run(): Promise<void> {
    const pollMs = this.o.pollMs ?? 1000;
    while (this.running) {
      let moreWork = false;
      try {
        moreWork = (await this.holdLease()) && (await this.relayBatch());
        this.failures = 0;
      } catch (err) {
        this.failures++;
        const backoff = Math.min(this.o.maxBackoffMs ?? 5000, 100 * 2 ** Math.min(this.failures, 10));
        this.o.logger.warn({ err: String(err), retryInMs: backoff }, "outbox relay failed; will retry");
        await this.sleep(backoff * (0.5 + Math.random() / 2), false);
        continue;
      }
      if (!moreWork) await this.sleep(pollMs, true);
    }
  }

  /** Sleeps until `ms` pass or (when `wakeable`) a commit kicks the relay; `stop()` always wakes it. */
  private sleep(ms: number, wakeable: boolean): Promise<void> {
    if (wakeable && this.kicked) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wake = null;
        this.kicked = false;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wake = wakeable
        ? finish
        : () => {
            if (!this.running) finish();
          };
    });
  }

  /** Takes or renews the lease; false while another live instance holds it. */
  private async holdLease(): Promise<boolean> {
    const now = Date.now();
    const leaseMs = this.o.leaseMs ?? 5000;
    // Renew only once half the lease is gone: a renewal is a committed (fsync'd) write.
    if (now < this.leaseUntil - leaseMs / 2) return true;
    const until = now + leaseMs;
    const held = await this.o.store.write(async (tx) => {
      const db = tx as AnyDb;
      await db
        .insert(relayLease)
        .values({ name: "outbox", owner: this.o.owner, until })
        .onConflictDoUpdate({
          target: relayLease.name,
          set: { owner: this.o.owner, until },
          where: or(lt(relayLease.until, now), eq(relayLease.owner, this.o.owner)),
        })
        .run();
      const lease = await db.select().from(relayLease).where(eq(relayLease.name, "outbox")).get();
      return lease?.owner === this.o.owner;
    });
    this.leaseUntil = held ? until : 0;
    return held;
  }

  /** Publishes one batch; true when more unsent rows may be waiting. */
  private async relayBatch(): Promise<boolean> {
    const batchSize = this.o.batchSize ?? 256;
    const db = this.o.store.db as AnyDb;
    let limit = batchSize;
    let candidates = await unsentRows(db).all({ limit });
    if (candidates.length === 0) return false;
    let batch = firstPerAggregate(candidates, batchSize);
    if (candidates.length === limit && batch.length < batchSize / 2) {
      // Most of the oldest events belong to a few aggregates, one of each can go: look further
      // for other aggregates' (reading four batches' rows every time cost a tenth of the relay).
      limit = batchSize * 4;
      candidates = await unsentRows(db).all({ limit });
      batch = firstPerAggregate(candidates, batchSize);
    }
    // An event leaves only once its transaction is durable, not merely visible.
    await this.o.store.synced();
    const timeout = this.o.publishTimeoutMs ?? 2000;
    const results = await Promise.allSettled(batch.map((row) => this.publish(row, timeout)));
    const sent = batch.filter((_, i) => results[i]?.status === "fulfilled").map((r) => r.seq);
    if (sent.length > 0) {
      const at = Date.now();
      // Every unsent row up to the last one sent went out (the candidates are all of them, in order,
      // and a row committed later has a higher seq): mark the range, not a list.
      const range = sent.length === batch.length && candidates[sent.length - 1] === batch[sent.length - 1];
      await this.o.store.write((tx) =>
        range
          ? markRangeSent(tx as AnyDb).run({ at, first: sent[0], last: sent[sent.length - 1] })
          : markSent(tx as AnyDb).run({ at, seqs: JSON.stringify(sent) }),
      );
      this.published += sent.length;
    }
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return candidates.length > batch.length || candidates.length === limit;
  }

  /**
   * Publishes one event. An event caused by a request gets a PRODUCER span in
   * that request's trace; its consumers become children of this span.
   */
  private async publish(row: Row, timeout: number) {
    // Written by the kit's one-pass encoder, not nats-core's (which canonicalises every name it sets).
    const h = new MeshHeaders();
    // The stored headers are a JSON object: each name once, so appending is enough.
    for (const [k, v] of Object.entries(JSON.parse(row.headers) as Record<string, string>)) h.append(k, v);
    if (!h.get("traceparent")) {
      return this.#streams.publish(row.subject, row.body, row.eventId, h, timeout);
    }
    const span = startSpan(`publish ${row.subject}`, {
      kind: SpanKind.PRODUCER,
      parent: extractContext(h),
      attributes: {
        [Attr.MessagingSystem]: "nats",
        [Attr.MessagingOperation]: "send",
        [Attr.MessagingDestination]: row.subject,
        [Attr.MessagingMessageId]: row.eventId,
      },
    });
    injectContext(span, h);
    try {
      return await this.#streams.publish(row.subject, row.body, row.eventId, h, timeout);
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  }
}

/**
 * The first unsent event of each aggregate, in commit order: events of one
 * aggregate are never in flight together, so a failed publish can't let a
 * later event of the same aggregate overtake it.
 */
export function firstPerAggregate<T extends { aggregate: string }>(rows: T[], limit: number): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const row of rows) {
    if (seen.has(row.aggregate)) continue;
    seen.add(row.aggregate);
    out.push(row);
    if (out.length >= limit) break;
  }
  return out;
}

/** Deletes sent rows older than `ms` (the stream is the record from then on). */
export async function pruneOutbox(store: Store<Record<string, unknown>>, ms: number): Promise<void> {
  const before = Date.now() - ms;
  await store.write((tx) =>
    (tx as AnyDb)
      .delete(outbox)
      .where(sql`${outbox.sentAt} IS NOT NULL AND ${outbox.sentAt} < ${before}`)
      .run(),
  );
}
