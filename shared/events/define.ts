/**
 * Event definitions and the envelope every event travels in. An event is
 * defined once, in its producer's `contract.ts`: a past-tense type, a version
 * and a zod schema of its data.
 */
import type { z } from "zod";

/** The JSON body of every event message (docs/protocol.md §6). */
export type EventEnvelope<T = unknown> = {
  id: string;
  type: string;
  version: number;
  occurredAt: string;
  data: T;
};

export type EventDefinition<S extends z.ZodType = z.ZodType> = {
  /** Producing service. */
  service: string;
  /** Past-tense name, dotted: `run.logged`. */
  type: string;
  version: number;
  schema: S;
};

/**
 * Declares an event in its producer's contract.
 *
 * @example
 * export const runLogged = defineEvent("runs", "run.logged", 1, RunEventData);
 */
export function defineEvent<const S extends z.ZodType>(
  service: string,
  type: string,
  version: number,
  schema: S,
): EventDefinition<S> {
  if (!/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/.test(type)) {
    throw new Error(`Event type "${type}" must be dotted lower-case words, e.g. "run.logged"`);
  }
  if (!Number.isInteger(version) || version < 1) throw new Error(`Event version must be a positive integer`);
  return { service, type, version, schema };
}

/** `EVENTS_<NAME>`: the stream of a producing service. */
export const streamName = (service: string): string => `EVENTS_${service.toUpperCase().replace(/-/g, "_")}`;
/** `events.<service>.<type>`: the subject an event is published on. */
export const eventSubject = (event: Pick<EventDefinition, "service" | "type">): string =>
  `events.${event.service}.${event.type}`;

/** Headers carried on event messages besides `Nats-Msg-Id`. */
export const EventHeader = { Type: "Mesh-Event-Type", Version: "Mesh-Event-Version" } as const;
