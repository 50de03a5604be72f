/**
 * Serves a service's Hono app over NATS: the `http` endpoint of the wire
 * protocol. The request is rebuilt from `Http-*` headers and the raw body, the
 * app answers as it would over HTTP, and the reply carries `Http-Status`.
 * A `text/event-stream` answer to a request marked `Mesh-Stream: 1` goes back
 * as a streamed reply: `open`, then `data` messages as the app writes, then
 * `end` (docs/protocol.md, "Streamed replies").
 */
import type { ServiceMsg } from "@nats-io/services";
import { MeshError } from "../errors/index.ts";
import type { Logger } from "../log/logger.ts";
import {
  headersOf,
  isEventStream,
  MeshHeader,
  MeshHeaders,
  MeshStream,
  natsToRequest,
  responseToNatsHeaders,
  STREAM_CHUNK_BYTES,
  STREAM_HEARTBEAT_MS,
} from "../protocol/index.ts";

type FetchApp = { fetch(request: Request): Response | Promise<Response> };

/** How long streamed replies may last and how they are kept alive. */
export type StreamOptions = {
  /** Longest a stream stays open (`SERVICE_STREAM_MAX_MS`); the request's `Mesh-Deadline` may end it sooner. */
  maxMs: number;
  /** A message at least this often, an empty `data` when the app wrote nothing (default STREAM_HEARTBEAT_MS). */
  heartbeatMs?: number;
  /** Most body bytes in one message (default STREAM_CHUNK_BYTES). */
  chunkBytes?: number;
  /** Ends every open stream with `end` when it aborts (the service is stopping). */
  signal?: AbortSignal;
};

/** The kit's defaults, as `SERVICE_STREAM_MAX_MS` has them. */
export const STREAM_DEFAULTS: StreamOptions = { maxMs: 300_000 };

/**
 * Handles one `http` endpoint message. Never throws: every failure is replied
 * to as a problem so the caller is never left waiting.
 *
 * @example
 * service.addEndpoint("http", { handler: (_err, msg) => serveHttpMessage(app, msg, origin, logger, { maxMs: 300_000 }) });
 */
export async function serveHttpMessage(
  app: FetchApp,
  msg: ServiceMsg,
  origin: string,
  logger: Logger,
  streams: StreamOptions = STREAM_DEFAULTS,
) {
  const headers = headersOf(msg);
  const request = natsToRequest(headers, msg.data, origin);
  if (!request) {
    replyProblem(msg, new MeshError(400, { detail: "Missing Http-Method or Http-Path header" }));
    return;
  }
  const deadline = Number(headers?.get(MeshHeader.Deadline));
  const hasDeadline = Number.isFinite(deadline) && deadline > 0;
  if (hasDeadline && deadline < Date.now()) {
    // Nobody is waiting for this answer any more; skip the work.
    replyProblem(msg, new MeshError(504, { detail: "The request's deadline passed before it was handled" }));
    return;
  }
  let response: Response;
  try {
    response = await app.fetch(request);
    if (!(headers?.get(MeshHeader.Stream) === MeshStream.Accepted && isStreamable(response))) {
      const body = new Uint8Array(await response.arrayBuffer());
      msg.respond(body, { headers: responseToNatsHeaders(response) });
      return;
    }
  } catch (err) {
    logger.error({ err: String(err) }, "http endpoint failed");
    replyProblem(msg, new MeshError(500, { detail: "The service failed to handle the request." }));
    return;
  }
  const endsAt = Math.min(hasDeadline ? deadline : Number.POSITIVE_INFINITY, Date.now() + streams.maxMs);
  await streamReply(msg, response, endsAt, streams, logger);
}

/** A response the mesh streams: server-sent events with a body. */
function isStreamable(response: Response): boolean {
  return response.body !== null && isEventStream(response.headers.get("content-type"));
}

/**
 * Sends `response` as a streamed reply until its body ends, `endsAt` passes
 * or `options.signal` aborts; then cancels the body (the app's stream sees
 * its abort) and sends `end`. Never throws.
 */
async function streamReply(
  msg: ServiceMsg,
  response: Response,
  endsAt: number,
  options: StreamOptions,
  logger: Logger,
): Promise<void> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const sender = new StreamSender(
    (body, headers) => msg.respond(body, { headers }),
    options.heartbeatMs ?? STREAM_HEARTBEAT_MS,
    options.chunkBytes ?? STREAM_CHUNK_BYTES,
  );
  const stop = () => void reader.cancel().catch(() => {});
  const timer = setTimeout(stop, Math.max(0, endsAt - Date.now()));
  options.signal?.addEventListener("abort", stop, { once: true });
  if (options.signal?.aborted) stop();
  sender.open(responseToNatsHeaders(response));
  try {
    while (!sender.broken) {
      const { done, value } = await reader.read();
      if (done) break;
      sender.write(value);
    }
  } catch (err) {
    logger.warn({ err: String(err) }, "streamed reply's body failed");
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", stop);
    if (sender.broken) stop();
    sender.end();
  }
}

type Publish = (body: Uint8Array, headers: MeshHeaders) => unknown;

const EMPTY = new Uint8Array(0);

/**
 * The messages of one streamed reply, in order: `open` with the response's
 * headers, then `data` with `Mesh-Stream-Seq` 1, 2, 3… and `end` last. The
 * chunks written in one tick of the event loop go as one message, split at
 * `chunkBytes`; when nothing was sent for `heartbeatMs`, an empty `data`
 * tells the edge the stream is alive.
 *
 * @example
 * const s = new StreamSender((body, headers) => msg.respond(body, { headers }), 10_000, 65_536);
 * s.open(responseToNatsHeaders(res)); s.write(bytes); s.end();
 */
export class StreamSender {
  #seq = 0;
  #pending: Uint8Array[] = [];
  #flush: ReturnType<typeof setTimeout> | undefined;
  #beat: ReturnType<typeof setTimeout> | undefined;
  #ended = false;
  /** True once a message could not be published (the connection is gone): nothing more is sent. */
  broken = false;

  constructor(
    private readonly publish: Publish,
    private readonly heartbeatMs: number,
    private readonly chunkBytes: number,
  ) {}

  open(headers: MeshHeaders): void {
    headers.appendTrusted(MeshHeader.Stream, MeshStream.Open);
    this.#send(EMPTY, headers);
  }

  /** Queues bytes; they go out once this tick's other writes have joined them. */
  write(chunk: Uint8Array): void {
    if (this.#ended || chunk.byteLength === 0) return;
    this.#pending.push(chunk);
    this.#flush ??= setTimeout(() => this.flush(), 0);
  }

  /** Sends what is queued now, in messages of at most `chunkBytes`. */
  flush(): void {
    clearTimeout(this.#flush);
    this.#flush = undefined;
    const bytes = concat(this.#pending);
    this.#pending = [];
    for (let at = 0; at < bytes.byteLength; at += this.chunkBytes) {
      this.#next(MeshStream.Data, bytes.subarray(at, at + this.chunkBytes));
    }
  }

  /** Sends what is queued and `end`; later writes are dropped. */
  end(): void {
    if (this.#ended) return;
    this.flush();
    this.#ended = true;
    this.#next(MeshStream.End, EMPTY);
    clearTimeout(this.#beat);
  }

  #next(kind: string, body: Uint8Array): void {
    const headers = new MeshHeaders();
    headers.appendTrusted(MeshHeader.Stream, kind);
    headers.appendTrusted(MeshHeader.StreamSeq, String(++this.#seq));
    this.#send(body, headers);
  }

  #send(body: Uint8Array, headers: MeshHeaders): void {
    if (this.broken) return;
    try {
      this.publish(body, headers);
    } catch {
      this.broken = true;
      clearTimeout(this.#beat);
      return;
    }
    clearTimeout(this.#beat);
    if (!this.#ended) this.#beat = setTimeout(() => this.#next(MeshStream.Data, EMPTY), this.heartbeatMs);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function replyProblem(msg: ServiceMsg, error: MeshError): void {
  const response = error.toResponse();
  const body = new TextEncoder().encode(JSON.stringify(error.toProblem()));
  msg.respond(body, { headers: responseToNatsHeaders(response) });
}
