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
export {
  DUPLICATE_WINDOW_MS,
  durableConfig,
  ensureConsumer,
  ensureDurable,
  ensureEventStream,
  ensureStream,
  eventStreamConfig,
  type MeshProvision,
  NotProvisionedError,
  type Provisioned,
  provisionMesh,
  type StreamOptions,
  untilJetStreamAnswers,
} from "./provision.ts";
export { firstPerAggregate, OutboxRelay } from "./relay.ts";
export { EventConsumer } from "./runner.ts";
export { deadLetters, inbox, outbox } from "./tables.ts";
