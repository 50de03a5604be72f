/**
 * The edge's hop of a trace (W3C Trace Context, https://www.w3.org/TR/trace-context/):
 * a SERVER span per proxied request, a child of the client's `traceparent`
 * when it is valid, or the root of a new trace. On `@opentelemetry/api`
 * only: the Bun worker registers the SDK that records the spans; on Deno and
 * workerd (or without an OTLP endpoint) they are not recorded, but the trace
 * id is kept and each hop still gets its own span id.
 */
import { type Context, trace } from "@opentelemetry/api";
import {
  type Attributes,
  extractContext,
  formatTraceparent,
  type Span,
  SpanKind,
  startSpan,
} from "@runnerly/kit/web";

/** The trace context the edge forwards to a service (one try's span). */
export type TraceContext = {
  /** 32 lowercase hex digits, shared by every hop of the request. */
  traceId: string;
  /** `00-<trace id>-<span id>-<flags>`, the value of the `traceparent` header. */
  traceparent: string;
  /** The caller's `tracestate`, kept only when its `traceparent` was valid. */
  tracestate?: string | undefined;
};

/**
 * Starts the edge's SERVER span of a request, continuing the client's trace
 * (same trace id and sampled flag, its `tracestate` kept) or starting a new
 * sampled one. A malformed header is ignored, never an error.
 *
 * @example
 * const { span, context } = startRequestSpan(req.headers, "GET /api/runs", { "http.request.method": "GET" });
 * try { … attempt(nc, subject, { …, trace: context }, ms) … } finally { span.end(); }
 */
export function startRequestSpan(
  headers: Headers,
  name: string,
  attributes: Attributes,
): { span: Span; context: Context } {
  const parent = extractContext(headers);
  const span = startSpan(name, { kind: SpanKind.SERVER, parent, attributes });
  return { span, context: trace.setSpan(parent, span) };
}

/** The `traceparent` / `tracestate` naming `span` as the parent of the next hop. */
export function traceContextOf(span: Span): TraceContext {
  const sc = span.spanContext();
  return {
    traceId: sc.traceId,
    traceparent: formatTraceparent(sc),
    tracestate: sc.traceState?.serialize() || undefined,
  };
}
