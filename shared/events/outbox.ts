/**
 * The transactional outbox: `emit` writes an event in the same SQLite
 * transaction as the state change that caused it, so both commit or neither
 * does; the relay publishes it afterwards.
 */
import type { z } from "zod";
import type { Db, Store } from "../db/index.ts";
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
      const headers: Record<string, string> = {
        [EventHeader.Type]: event.type,
        [EventHeader.Version]: String(event.version),
      };
      const cause = activeSpanContext(options.traceparent);
      if (cause) {
        injectContext(cause, {
          set(name, value) {
            headers[name] = value;
          },
        });
      }
      await (tx as Db<Record<string, unknown>>).insert(outbox).values({
        eventId: envelope.id,
        subject: eventSubject(event),
        aggregate: options.aggregate,
        body: JSON.stringify(envelope),
        headers: JSON.stringify(headers),
        createdAt: Date.now(),
      });
      store.afterCommit(onCommitted);
      return envelope;
    },
  };
}
