/**
 * The transactional outbox: `emit` writes an event in the same SQLite
 * transaction as the state change that caused it, so both commit or neither
 * does; the relay publishes it afterwards.
 */
import { sql } from "drizzle-orm";
import type { z } from "zod";
import { type Db, preparedPer, type Store } from "../db/index.ts";
import { validationError } from "../errors/index.ts";
import { activeSpanContext, injectContext } from "../trace/index.ts";
import { type EventDefinition, type EventEnvelope, EventHeader, eventSubject } from "./define.ts";
import { outbox } from "./tables.ts";

export type EmitOptions = {
  /** The entity the event is about; events of one aggregate are published in order. */
  aggregate: string;
  /**
   * Trace context to carry into the event's consumers. Not needed inside a
   * request or a consumer: the active span is recorded by itself; this one
   * wins only when it names another trace.
   */
  traceparent?: string | undefined;
};

export interface Outbox {
  /**
   * Records an event inside the caller's write transaction.
   *
   * @example
   * await store.write(async (tx) => {
   *   await tx.insert(runs).values(row);
   *   await outbox.emit(tx, runLogged, toEvent(row), { aggregate: row.id });
   * });
   */
  emit<S extends z.ZodType>(
    tx: Db<never> | Db<Record<string, unknown>> | unknown,
    event: EventDefinition<S>,
    data: z.input<S>,
    options: EmitOptions,
  ): Promise<EventEnvelope<z.output<S>>>;
}

/** An outbox bound to a store; `onCommitted` wakes the relay once the transaction commits. */
export function createOutbox(store: Store<Record<string, unknown>>, onCommitted: () => void): Outbox {
  return {
    async emit(tx, event, data, options) {
      const parsed = event.schema.safeParse(data);
      if (!parsed.success) throw validationError(parsed.error, `event ${event.type}`);
      const envelope = {
        id: Bun.randomUUIDv7(),
        type: event.type,
        version: event.version,
        occurredAt: new Date().toISOString(),
        data: parsed.data,
      };
      await writeOutboxRow(tx as AnyDb, {
        msgId: envelope.id,
        subject: eventSubject(event),
        aggregate: options.aggregate,
        body: envelope,
        headers: { [EventHeader.Type]: event.type, [EventHeader.Version]: String(event.version) },
        traceparent: options.traceparent,
      });
      store.afterCommit(onCommitted);
      return envelope;
    },
  };
}

type AnyDb = Db<Record<string, unknown>>;

/** One message for the relay: an event, a task or a task's result. */
export type OutboxMessage = {
  /** `Nats-Msg-Id`: the stream drops a second copy inside its duplicate window. */
  msgId: string;
  subject: string;
  /** Messages of one aggregate are published in order. */
  aggregate: string;
  /** Sent as JSON. */
  body: unknown;
  headers: Record<string, string>;
  /** Whose trace the message continues, when not the active span's (see EmitOptions). */
  traceparent?: string | undefined;
};

/**
 * Writes a message into the outbox in the caller's transaction, carrying the
 * active span (or `traceparent`) so its consumer joins the trace.
 *
 * @example
 * await writeOutboxRow(tx, { msgId, subject: "tasks.stats.report", aggregate: id, body, headers: {} });
 */
export async function writeOutboxRow(db: AnyDb, m: OutboxMessage): Promise<void> {
  const headers = { ...m.headers };
  const cause = activeSpanContext(m.traceparent);
  if (cause) {
    injectContext(cause, {
      set(name, value) {
        headers[name] = value;
      },
    });
  }
  await insertOutbox(db).run({
    eventId: m.msgId,
    subject: m.subject,
    aggregate: m.aggregate,
    body: JSON.stringify(m.body),
    headers: JSON.stringify(headers),
    createdAt: Date.now(),
  });
}

const p = sql.placeholder;

const insertOutbox = preparedPer((db: AnyDb) =>
  db
    .insert(outbox)
    .values({
      eventId: p("eventId"),
      subject: p("subject"),
      aggregate: p("aggregate"),
      body: p("body"),
      headers: p("headers"),
      createdAt: p("createdAt"),
    })
    .prepare(),
);
