/**
 * Durable JetStream consumers with exactly-once effect: each event's handler
 * writes and an inbox row (consumer, event id) commit in one transaction, so a
 * redelivered event is skipped. Failures are retried with backoff up to
 * `maxDeliver`, then recorded as dead letters while later events keep flowing.
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import type { Msg } from "@nats-io/nats-core";
import { and, eq, sql } from "drizzle-orm";
import { type Db, preparedPer, type Store } from "../db/index.ts";
import { type Logger, lazyChild } from "../log/logger.ts";
import { headersOf } from "../protocol/index.ts";
import {
  Attr,
  type Context,
  extractContext,
  failSpan,
  inSpan,
  type Span,
  SpanKind,
  startSpan,
  traceFields,
  traceparentOf,
  useAsyncContext,
} from "../trace/index.ts";
import { type EventDefinition, type EventEnvelope, eventSubject, streamName } from "./define.ts";
import { faultPoint } from "./faults.ts";
import { deadLetters, inbox } from "./tables.ts";

type AnyDb = Db<Record<string, unknown>>;

export type HandlerContext = {
  /** The consumer span of this delivery (a child of the event's `traceparent`): pass it on to further hops. */
  traceparent: string | undefined;
  deliveries: number;
  /** Bound to the consumer, the message and its trace (`traceId`, `spanId`). */
  logger: Logger;
};

export type ConsumerDefinition<S extends Record<string, unknown> = Record<string, unknown>> = {
  /** Durable name, saying why it listens: `stats-update-totals`. */
  name: string;
  /** Every event (type and version) this consumer accepts; all from one producer. */
  events: EventDefinition[];
  /** Applies one event inside the transaction that also records it as applied. */
  handle(tx: Db<S>, event: EventEnvelope, ctx: HandlerContext): Promise<void>;
  /** Clears the projection before a rebuild from the start of the stream. */
  reset?(tx: Db<S>): Promise<void>;
  maxDeliver?: number;
  /** Delay before each retry (the last value repeats). */
  backoffMs?: number[];
  ackWaitMs?: number;
};

/**
 * Declares a consumer (in the consuming service's `events.ts`).
 *
 * @example
 * export const updateTotals = defineConsumer<Schema>({ name: "stats-update-totals", events: [runLogged], handle });
 */
export function defineConsumer<S extends Record<string, unknown>>(
  def: ConsumerDefinition<S>,
): ConsumerDefinition<S> {
  const producers = new Set(def.events.map((e) => e.service));
  if (producers.size !== 1)
    throw new Error(`Consumer ${def.name} must listen to exactly one producer's events`);
  return def;
}

/** Why an event could not be applied and will not be retried. */
class PoisonEvent extends Error {}
/** An event of a type this consumer does not listen to (it shares the wildcard filter). */
class NotForUs extends Error {}

/** Decodes and validates an event against the versions a consumer accepts. */
export function decodeEvent(def: ConsumerDefinition, data: Uint8Array): EventEnvelope {
  let envelope: EventEnvelope;
  try {
    envelope = JSON.parse(new TextDecoder().decode(data)) as EventEnvelope;
  } catch {
    throw new PoisonEvent("event body is not JSON");
  }
  if (!envelope || typeof envelope.id !== "string" || typeof envelope.type !== "string") {
    throw new PoisonEvent("event body is not an event envelope");
  }
  if (!def.events.some((e) => e.type === envelope.type)) throw new NotForUs();
  const known = def.events.find((e) => e.type === envelope.type && e.version === envelope.version);
  if (!known) throw new PoisonEvent(`${def.name} does not accept ${envelope.type} v${envelope.version}`);
  const parsed = known.schema.safeParse(envelope.data);
  if (!parsed.success) throw new PoisonEvent(`invalid ${envelope.type} data: ${parsed.error.message}`);
  return { ...envelope, data: parsed.data };
}

/**
 * Applies one event exactly once: skipped when the inbox already has it.
 * Returns false when it had been applied before.
 */
export async function applyOnce(
  store: Store<Record<string, unknown>>,
  def: ConsumerDefinition,
  event: EventEnvelope,
  ctx: HandlerContext,
): Promise<boolean> {
  return store.write(async (tx) => {
    const db = tx as AnyDb;
    const seen = await inboxHas(db).get({ consumer: def.name, eventId: event.id });
    if (seen) return false;
    await def.handle(tx as never, event, ctx);
    await inboxAdd(db).run({ consumer: def.name, eventId: event.id, appliedAt: Date.now() });
    return true;
  });
}

const p = sql.placeholder;

// Asked and written for every event a consumer takes: compiled once (db/prepared.ts).
const inboxHas = preparedPer((db: AnyDb) =>
  db
    .select({ eventId: inbox.eventId })
    .from(inbox)
    .where(and(eq(inbox.consumer, p("consumer")), eq(inbox.eventId, p("eventId"))))
    .prepare(),
);
const inboxAdd = preparedPer((db: AnyDb) =>
  db
    .insert(inbox)
    .values({ consumer: p("consumer"), eventId: p("eventId"), appliedAt: p("appliedAt") })
    .prepare(),
);

export type ConsumerRuntime = {
  store: Store<Record<string, unknown>>;
  js: JetStreamClient;
  jsm: JetStreamManager;
  logger: Logger;
};

/** The stream and subjects a consumer reads. */
export function consumerSource(def: ConsumerDefinition): { stream: string; subjects: string[] } {
  const first = def.events[0];
  if (!first) throw new Error(`Consumer ${def.name} has no events`);
  return { stream: streamName(first.service), subjects: [...new Set(def.events.map(eventSubject))] };
}

/** A CONSUMER span for one delivery, a child of the event's `traceparent` (or a new trace without one). */
function consumerSpan(def: ConsumerDefinition, m: JsMsg): { span: Span; parent: Context } {
  return deliverySpan(`process ${m.subject}`, def.name, m);
}

/**
 * A CONSUMER span named `name` for one JetStream delivery to durable `group`,
 * a child of the message's `traceparent` (or a new trace without one); the
 * kit's event consumers and task runners use it.
 *
 * @example
 * const { span, parent } = deliverySpan(`work ${m.subject}`, "stats-tasks", m);
 */
export function deliverySpan(name: string, group: string, m: JsMsg): { span: Span; parent: Context } {
  useAsyncContext();
  // Read by the kit's one-pass decoder, not nats-core's (which canonicalises every name it looks up).
  const headers = headersOf(m as unknown as Msg);
  const parent = extractContext(headers);
  const span = startSpan(name, {
    kind: SpanKind.CONSUMER,
    parent,
    attributes: {
      [Attr.MessagingSystem]: "nats",
      [Attr.MessagingOperation]: "process",
      [Attr.MessagingDestination]: m.subject,
      [Attr.MessagingConsumerGroup]: group,
      [Attr.MessagingMessageId]: headers?.get("Nats-Msg-Id") ?? "",
      [Attr.MessagingDeliveries]: m.info.deliveryCount,
    },
  });
  return { span, parent };
}

/** What a handler of one delivery is given: the span's traceparent and a logger naming the trace. */
function handlerContext(rt: ConsumerRuntime, def: ConsumerDefinition, m: JsMsg, span: Span): HandlerContext {
  return {
    traceparent: traceparentOf(span),
    deliveries: m.info.deliveryCount,
    // Bound only if the handler logs: most deliveries log nothing.
    logger: lazyChild(rt.logger, () => ({ consumer: def.name, seq: m.seq, ...traceFields(span) })),
  };
}

/**
 * Handles one delivered message inside a CONSUMER span: apply, or retry
 * later, or dead-letter. Never throws.
 */
export async function handleMessage(
  rt: ConsumerRuntime,
  def: ConsumerDefinition,
  m: JsMsg,
): Promise<Outcome> {
  const { span, parent } = consumerSpan(def, m);
  try {
    const outcome = await inSpan(span, parent, () => processMessage(rt, def, m, span));
    span.setAttribute(Attr.EventOutcome, outcome);
    return outcome;
  } finally {
    span.end();
  }
}

async function processMessage(
  rt: ConsumerRuntime,
  def: ConsumerDefinition,
  m: JsMsg,
  span: Span,
): Promise<Outcome> {
  const ctx = handlerContext(rt, def, m, span);
  const { deliveries, logger } = ctx;
  // Tell the server we're still on it, so a slow handler isn't redelivered mid-way.
  const keepAlive = setInterval(() => m.working(), Math.max(1000, (def.ackWaitMs ?? 30_000) / 3));
  try {
    const event = decodeEvent(def, m.data);
    const applied = await applyOnce(rt.store, def, event, ctx);
    faultPoint("consumer.after-commit");
    m.ack();
    return applied ? "applied" : "skipped";
  } catch (err) {
    if (err instanceof NotForUs) {
      m.ack();
      return "skipped";
    }
    failSpan(span, err);
    const maxDeliver = def.maxDeliver ?? 5;
    if (err instanceof PoisonEvent || deliveries >= maxDeliver) {
      await recordDeadLetter(rt.store, def, m, String(err instanceof Error ? err.message : err), deliveries);
      logger.error({ err: String(err), deliveries, subject: m.subject }, "event dead-lettered");
      // No reason: servers before 2.10 ignore a TERM that carries one (the dead letter keeps the reason).
      m.term();
      return "dead";
    }
    const backoff = def.backoffMs ?? [250, 1000, 5000, 15_000];
    const delay = backoff[Math.min(deliveries - 1, backoff.length - 1)] ?? 1000;
    logger.warn({ err: String(err), deliveries, retryInMs: delay }, "event handler failed; will retry");
    m.nak(delay);
    return "retry";
  } finally {
    clearInterval(keepAlive);
  }
}

async function recordDeadLetter(
  store: Store<Record<string, unknown>>,
  def: ConsumerDefinition,
  m: JsMsg,
  error: string,
  deliveries: number,
): Promise<void> {
  let eventId = `seq-${m.seq}`;
  try {
    eventId = (JSON.parse(new TextDecoder().decode(m.data)) as { id?: string }).id ?? eventId;
  } catch {
    // keep the sequence-based id
  }
  await store.write((tx) =>
    (tx as AnyDb)
      .insert(deadLetters)
      .values({
        consumer: def.name,
        eventId,
        subject: m.subject,
        body: new TextDecoder().decode(m.data),
        error,
        deliveries,
        failedAt: Date.now(),
      })
      .run(),
  );
}

export { NotForUs, PoisonEvent };

export type Outcome = "applied" | "skipped" | "retry" | "dead";

/**
 * Applies messages already waiting in one transaction, so a backlog costs one
 * commit per batch instead of one per event. If any event fails, the batch
 * rolls back and each is handled alone, so only the failing one is retried.
 */
export async function handleBatch(
  rt: ConsumerRuntime,
  def: ConsumerDefinition,
  batch: JsMsg[],
): Promise<Outcome[]> {
  const one = async () => {
    const out: Outcome[] = [];
    for (const m of batch) out.push(await handleMessage(rt, def, m));
    return out;
  };
  if (batch.length === 1) return one();
  const events: EventEnvelope[] = [];
  for (const m of batch) {
    try {
      events.push(decodeEvent(def, m.data));
    } catch {
      return one();
    }
  }
  // One CONSUMER span per event, each in its own event's trace.
  const spans = batch.map((m) => consumerSpan(def, m));
  const end = (outcomes: string[]) =>
    spans.forEach(({ span }, i) => {
      span.setAttribute(Attr.EventOutcome, outcomes[i] ?? "rolled-back");
      span.end();
    });
  try {
    const applied = await rt.store.write(async () => {
      const out: boolean[] = [];
      for (const [i, event] of events.entries()) {
        const m = batch[i] as JsMsg;
        const { span, parent } = spans[i] as { span: Span; parent: Context };
        const ctx = handlerContext(rt, def, m, span);
        // Joins this transaction (nested writes share it).
        out.push(await inSpan(span, parent, () => applyOnce(rt.store, def, event, ctx)));
      }
      return out;
    });
    faultPoint("consumer.after-commit");
    for (const m of batch) m.ack();
    const outcomes: Outcome[] = applied.map((a) => (a ? "applied" : "skipped"));
    end(outcomes);
    return outcomes;
  } catch {
    // Rolled back: each event is handled again alone, in a span of its own.
    end([]);
    return one();
  }
}
