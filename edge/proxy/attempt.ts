/**
 * One try of a request: one NATS request to a service's `http` endpoint, in a
 * CLIENT span of its own (the service's span is its child), and what came of
 * it as a plain value (an `Outcome`), never a throw, so retry, circuit
 * breaker and cache can each decide what it means for them. A client that
 * takes server-sent events gets its reply streamed (stream.ts).
 * Web standards only.
 */
import type { Msg, MsgHdrs } from "@nats-io/nats-core";
import type { Context } from "@opentelemetry/api";
import {
  Attr,
  failStatus,
  HttpHeader,
  headersOf,
  MeshError,
  MeshHeader,
  MeshStream,
  natsToResponseInit,
  type Requester,
  requestToNatsHeaders,
  ServiceErrorHeader,
  type Span,
  SpanKind,
  startSpan,
} from "@runnerly/kit/web";
import { isConnectionGone, isNoResponders, isPayloadTooLarge, isTimeout } from "./nats-errors.ts";
import { replyMargin } from "./resilience/deadline.ts";
import { requestStream, type StreamRequest } from "./stream.ts";
import { traceContextOf } from "./trace.ts";

/** What one try came to. `reply.status` is the HTTP status the service meant (ADR-32 errors included). */
export type Outcome =
  | {
      kind: "reply";
      msg: Msg;
      headers: MsgHdrs | undefined;
      status: number;
      /** A streamed reply's whole body, `msg.data` first (none: `msg` is the whole reply). */
      stream?: ReadableStream<Uint8Array> | null;
    }
  | { kind: "no-responders" }
  | { kind: "timeout" }
  | { kind: "too-large" }
  | { kind: "gone" }
  | { kind: "error"; err: unknown }
  /** The circuit was open, so no try was made. */
  | { kind: "open" }
  /** The request's deadline passed (or its client left) before an answer. */
  | { kind: "deadline" };

/** The request as the edge forwards it, the same bytes on every try. */
export type Outgoing = {
  method: string;
  /** Path and query, as received. */
  target: string;
  headers: Headers;
  body: Uint8Array;
  requestId: string;
  /** The context of the edge's span of the request: each try is a child span of it. */
  trace: Context;
  user?: string | undefined;
  /** The client's address as the edge resolved it (`Mesh-Client-Address`); none: not known. */
  clientAddress?: string | null | undefined;
  /** The client takes server-sent events: the reply may be streamed within these limits. */
  stream?: StreamRequest | undefined;
};

/**
 * Sends one try and waits at most `timeoutMs`. `Mesh-Deadline` is the end of
 * this try less a margin for the answer's way back: past it nobody waits for
 * the answer, so the service stops and commits nothing, and an answer sent
 * just before it still arrives (a 504 never hides a committed write). A
 * stream request is marked `Mesh-Stream: 1` and its `Mesh-Deadline` is the
 * end of the longest stream: `timeoutMs` bounds only the wait for its first reply.
 *
 * @example
 * const outcome = await attempt(new Requester(nc), "svc.runs.http", outgoing, 3000);
 * if (outcome.kind === "reply") console.log(outcome.status);
 */
export async function attempt(
  requester: Requester,
  subject: string,
  req: Outgoing,
  timeoutMs: number,
): Promise<Outcome> {
  const span = startSpan(`${req.method} ${subject}`, {
    kind: SpanKind.CLIENT,
    parent: req.trace,
    attributes: { [Attr.HttpMethod]: req.method, [Attr.MessagingDestination]: subject },
  });
  const { traceparent, tracestate } = traceContextOf(span);
  const headers = requestToNatsHeaders(req.method, req.target, req.headers, {
    requestId: req.requestId,
    deadline: req.stream ? Date.now() + req.stream.maxMs : Date.now() + timeoutMs - replyMargin(timeoutMs),
    traceparent,
    tracestate,
    user: req.user,
    clientAddress: req.clientAddress,
  });
  if (req.stream) headers.appendTrusted(MeshHeader.Stream, MeshStream.Accepted);
  const outcome = await send(requester, subject, req.body, headers, timeoutMs, req.stream);
  endTrySpan(span, outcome);
  return outcome;
}

async function send(
  requester: Requester,
  subject: string,
  body: Uint8Array,
  headers: ReturnType<typeof requestToNatsHeaders>,
  timeoutMs: number,
  stream: Outgoing["stream"],
): Promise<Outcome> {
  try {
    const { msg, stream: rest } = stream
      ? await requestStream(requester.nc, subject, body, headers, timeoutMs, stream)
      : { msg: await requester.request(subject, body, headers, timeoutMs), stream: null };
    // Read once, by the kit's one-pass reader (shared/protocol/headers.ts).
    const replyHeaders = headersOf(msg);
    const status = replyStatus(replyHeaders);
    // A failing service's stream is not followed: its first reply is what retry, breaker and stale copies judge.
    if (rest && status >= 500) void rest.cancel();
    return { kind: "reply", msg, headers: replyHeaders, status, stream: status >= 500 ? null : rest };
  } catch (err) {
    if (isNoResponders(err)) return { kind: "no-responders" };
    if (isTimeout(err)) return { kind: "timeout" };
    if (isPayloadTooLarge(err)) return { kind: "too-large" };
    if (isConnectionGone(err)) return { kind: "gone" };
    return { kind: "error", err };
  }
}

/** Records what a try came to: the status answered, or why there was none. */
function endTrySpan(span: Span, outcome: Outcome): void {
  if (outcome.kind !== "reply") failStatus(span, outcome.kind);
  else {
    span.setAttribute(Attr.HttpStatus, outcome.status);
    if (outcome.status >= 500) failStatus(span, outcome.status);
  }
  span.end();
}

/** The status a reply stands for: an ADR-32 error's code, else `Http-Status`. */
export function replyStatus(headers: MsgHdrs | undefined): number {
  const code = headers?.get(ServiceErrorHeader.Code);
  if (code) return httpStatus(Number(code), 400) ?? 500;
  return httpStatus(Number(headers?.get(HttpHeader.Status)), 200) ?? 200;
}

function httpStatus(n: number, min: number): number | null {
  return Number.isInteger(n) && n >= min && n <= 599 ? n : null;
}

/** True when a try says the service is unwell: the circuit counts it and stale copies may stand in. */
export function isServiceFailure(o: Outcome): boolean {
  if (o.kind === "reply") return o.status >= 500;
  return o.kind === "no-responders" || o.kind === "timeout";
}

// Statuses whose response must not carry a body (Fetch standard: null body status).
const NULL_BODY_STATUS = new Set([204, 205, 304]);

/**
 * The client's response for a reply. A bare 5xx ADR-32 error carries the
 * service's own description (a Python micro service puts repr(exception)
 * there), so the client gets a generic detail and `onHiddenError` the original.
 */
export function replyToResponse(
  reply: { msg: Msg; headers: MsgHdrs | undefined; stream?: ReadableStream<Uint8Array> | null },
  method: string,
  path: string,
  service: string,
  onHiddenError: (status: number, detail: string | undefined) => void,
): Response {
  const { msg, headers: replyHeaders } = reply;
  const failed = MeshError.fromServiceReply(replyHeaders, msg.data);
  if (failed) {
    if (failed.status >= 500 && msg.data.length === 0) {
      onHiddenError(failed.status, failed.detail);
      return new MeshError(failed.status, { detail: `Service ${service} failed.` }).toResponse(path);
    }
    return failed.toResponse(path);
  }
  const { status, headers } = natsToResponseInit(replyHeaders);
  if (reply.stream) return new Response(reply.stream, { status, headers });
  const body = method === "HEAD" || NULL_BODY_STATUS.has(status) ? null : msg.data;
  return new Response(body as Uint8Array<ArrayBuffer> | null, { status, headers });
}
