/**
 * Streamed replies at the edge (docs/protocol.md, "Streamed replies"): a
 * request whose client takes server-sent events goes out with a reply subject
 * of the edge's own, so that after the first reply (`Mesh-Stream: open`)
 * every `data` message can follow it to the client, in order, as the body of
 * one streaming Response. A gap in `Mesh-Stream-Seq`, a silence longer than
 * the idle bound, or the client leaving ends the stream and its subscription.
 * Web standards and nats-core's core API only.
 */
import {
  createInbox,
  errors,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from "@nats-io/nats-core";
import {
  headersOf,
  inboxPrefixOf,
  isEventStream,
  isNoRespondersReply,
  MeshHeader,
  MeshStream,
  streamInboxPrefix,
} from "@runnerly/kit/web";

/** How long a stream may last and stay silent, as the edge is configured. */
export type StreamLimits = {
  /** The stream's `Mesh-Deadline`: the service ends it by then. */
  maxMs: number;
  /** Longest silence (no message, not even a heartbeat) before the edge ends it. */
  idleMs: number;
};

/** A stream request's limits, the client's signal (it left: the stream ends) and who hears how it ended. */
export type StreamRequest = StreamLimits & {
  signal?: AbortSignal;
  onEnd?: (why: StreamEnd) => void;
};

/** Why a stream ended: the service's `end`, a lost message, silence, its client, too slow a client. */
export type StreamEnd = "end" | "gap" | "idle" | "cancelled" | "slow-client" | "error";

// Bytes the client has not read yet; above this it reads too slowly and the stream ends.
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

/**
 * True when the client takes a stream: its `Accept` names `text/event-stream`.
 *
 * @example
 * acceptsStream(new Headers({ accept: "text/event-stream" })); // true
 */
export function acceptsStream(headers: Headers): boolean {
  return (headers.get("accept") ?? "").split(",").some((type) => isEventStream(type));
}

/** The first reply of a stream request, and the whole body when the service opened a stream. */
export type StreamReply = { msg: Msg; stream: ReadableStream<Uint8Array> | null };

/**
 * `nc.request` for a client that takes a stream: sends with a reply subject
 * of its own and settles with the first reply within `timeoutMs`, or rejects
 * as `nc.request` does (no responders, timeout, too large, no connection).
 * When that reply is `Mesh-Stream: open`, `stream` is the whole body, its
 * bytes first (cancel it to stop listening); otherwise the edge stops listening at
 * once and the reply is all there is.
 *
 * @example
 * const { msg, stream } = await requestStream(nc, "svc.runs.http", body, headers, 3000, { maxMs: 300_000, idleMs: 30_000 });
 * return new Response(stream ?? msg.data); // stream begins with msg.data
 */
export function requestStream(
  nc: NatsConnection,
  subject: string,
  body: Uint8Array,
  headers: MsgHdrs,
  timeoutMs: number,
  limits: StreamRequest,
): Promise<StreamReply> {
  return new Promise<StreamReply>((resolve, reject) => {
    let stream: ReplyStream | null = null;
    // Under `<inbox>.stream.<service>`: the one place that service's NATS user may send a stream's later messages.
    const inbox = createInbox(streamInboxPrefix(inboxPrefixOf(nc) ?? "_INBOX", subject));
    const sub = nc.subscribe(inbox, {
      callback(err, msg) {
        if (stream) return stream.receive(err ? null : msg);
        clearTimeout(timer);
        const opened = !err && isOpen(msg);
        if (!opened) sub.unsubscribe();
        if (err) return reject(err);
        if (isNoRespondersReply(msg)) return reject(new errors.NoRespondersError(subject));
        if (opened) stream = new ReplyStream(sub, msg.data, limits);
        resolve({ msg, stream: stream?.readable ?? null });
      },
    });
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new errors.TimeoutError());
    }, timeoutMs);
    try {
      nc.publish(subject, body, { headers, reply: inbox });
    } catch (err) {
      clearTimeout(timer);
      sub.unsubscribe();
      reject(err);
    }
  });
}

function isOpen(msg: Msg): boolean {
  return headersOf(msg)?.get(MeshHeader.Stream) === MeshStream.Open;
}

/**
 * The body of a streamed reply: the first reply's bytes, then each `data`
 * message's, while their sequence numbers follow one another.
 */
class ReplyStream {
  readonly readable: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #next = 1;
  #idle: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  readonly #onClientGone = () => this.close("cancelled");

  constructor(
    private readonly sub: Subscription,
    first: Uint8Array,
    private readonly limits: StreamRequest,
  ) {
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
          if (first.byteLength > 0) controller.enqueue(first);
        },
        cancel: () => this.close("cancelled"),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
    );
    // Runtimes cancel a body whose client left; the request's signal says so too, whichever comes first.
    limits.signal?.addEventListener("abort", this.#onClientGone, { once: true });
    this.#armIdle();
    if (limits.signal?.aborted) this.close("cancelled");
  }

  /** One message after `open` (null: the subscription failed). */
  receive(msg: Msg | null): void {
    if (!this.#closed) this.#take(msg);
  }

  #take(msg: Msg | null): void {
    const headers = msg ? headersOf(msg) : undefined;
    if (!msg) this.close("error");
    else if (Number(headers?.get(MeshHeader.StreamSeq)) !== this.#next) this.close("gap");
    else if (headers?.get(MeshHeader.Stream) !== MeshStream.Data) {
      this.close(headers?.get(MeshHeader.Stream) === MeshStream.End ? "end" : "error");
    } else {
      this.#next += 1;
      if (msg.data.byteLength > 0) this.#controller.enqueue(msg.data);
      if ((this.#controller.desiredSize ?? 0) < -MAX_QUEUED_BYTES) this.close("slow-client");
      else this.#armIdle();
    }
  }

  /** Ends the client's body cleanly and stops listening; the first reason counts. */
  close(why: StreamEnd): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#idle);
    this.sub.unsubscribe();
    this.limits.signal?.removeEventListener("abort", this.#onClientGone);
    if (why !== "cancelled") {
      try {
        this.#controller.close();
      } catch {
        // the client's side is already gone
      }
    }
    this.limits.onEnd?.(why);
  }

  #armIdle(): void {
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.close("idle"), this.limits.idleMs);
  }
}
