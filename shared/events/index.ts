export {
  applyOnce,
  type ConsumerDefinition,
  decodeEvent,
  defineConsumer,
  type HandlerContext,
} from "./consumer.ts";
export {
  defineEvent,
  type EventDefinition,
  type EventEnvelope,
  EventHeader,
  eventSubject,
  streamName,
} from "./define.ts";
export { createOutbox, type EmitOptions, type Outbox } from "./outbox.ts";
export { firstPerAggregate, OutboxRelay } from "./relay.ts";
export { EventConsumer } from "./runner.ts";
export { DUPLICATE_WINDOW_MS, ensureEventStream } from "./streams.ts";
export { deadLetters, EVENTS_DDL, inbox, outbox } from "./tables.ts";
