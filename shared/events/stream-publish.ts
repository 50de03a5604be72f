/**
 * Publishing to a JetStream stream and waiting for its acknowledgement, for
 * the outbox relay's batches. On the wire this is what `js.publish` does: a
 * request to the event's subject with `Nats-Msg-Id`, answered by the stream
 * with a PubAck (`{"stream":…,"seq":…}`) or an error (`{"error":{…}}`). It
 * goes through the kit's `Requester` instead of nats-core's request: with a
 * batch of 256 publishes in flight, nats-core's request object, deferred and
 * timer promises and the `RequestError` it makes and drops on every answer
 * were 7–8 % of a pipeline run's samples; the pipeline measured 49–50 → 54 %
 * of raw JetStream without them (BENCHMARKS.md).
 */
import { errors, type NatsConnection } from "@nats-io/nats-core";
import { Requester } from "../nats/requester.ts";
import type { MeshHeaders } from "../protocol/index.ts";

/** The stream's acknowledgement: where the message is stored, and whether it was a duplicate of one stored earlier. */
export type StreamAck = { stream: string; seq: number; duplicate: boolean };

/** The stream refused the message (`{"error":{"code":…,"err_code":…,"description":…}}`), or nothing stored it. */
export class StreamPublishError extends Error {
  override readonly name = "StreamPublishError";
  constructor(
    message: string,
    /** JetStream's error code (e.g. 10077 "maximum messages exceeded"); 0 when no stream answered. */
    readonly errCode: number,
  ) {
    super(message);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Publishes messages to the streams that capture their subjects, many in
 * flight at once over one reply subscription.
 *
 * @example
 * const streams = new StreamPublisher(nc);
 * const ack = await streams.publish("events.runs.run.logged", body, "event-id", new MeshHeaders(), 2000);
 */
export class StreamPublisher {
  readonly #requester: Requester;

  constructor(nc: NatsConnection) {
    this.#requester = new Requester(nc);
  }

  /** Publishes `body` with `Nats-Msg-Id: msgId` (added to `headers`); resolves with the stream's ack. */
  async publish(
    subject: string,
    body: string | Uint8Array,
    msgId: string,
    headers: MeshHeaders,
    timeoutMs: number,
  ): Promise<StreamAck> {
    headers.append("Nats-Msg-Id", msgId);
    const data = typeof body === "string" ? encoder.encode(body) : body;
    let reply: Awaited<ReturnType<Requester["request"]>>;
    try {
      reply = await this.#requester.request(subject, data, headers, timeoutMs);
    } catch (err) {
      if (err instanceof errors.NoRespondersError) {
        throw new StreamPublishError(
          `No stream stores ${subject}: is JetStream on, and the service's stream provisioned (it is at the service's start)?`,
          0,
        );
      }
      throw err;
    }
    return parseAck(subject, reply.data);
  }
}

/** The PubAck in a reply's body, or the error it carries as a StreamPublishError. */
export function parseAck(subject: string, data: Uint8Array): StreamAck {
  let ack: {
    stream?: string;
    seq?: number;
    duplicate?: boolean;
    error?: { err_code?: number; description?: string };
  };
  try {
    ack = JSON.parse(decoder.decode(data));
  } catch {
    throw new StreamPublishError(
      `The reply to a publish to ${subject} was not a JetStream acknowledgement`,
      0,
    );
  }
  if (ack.error) {
    throw new StreamPublishError(
      `The stream refused a message to ${subject}: ${ack.error.description ?? "no description"}`,
      ack.error.err_code ?? 0,
    );
  }
  if (!ack.stream || typeof ack.seq !== "number") {
    throw new StreamPublishError(
      `The reply to a publish to ${subject} was not a JetStream acknowledgement`,
      0,
    );
  }
  return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true };
}
