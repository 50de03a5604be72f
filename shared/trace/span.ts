/**
 * Spans for every hop of a request, on `@opentelemetry/api` alone. With an SDK
 * registered (`startTracing`) they are recorded and exported; without one each
 * hop still gets its own span id in the caller's trace, so trace ids flow and
 * reach the logs either way. Web standards only: the edge uses this too.
 */
import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { childSpanContext, formatTraceparent, parseTraceparent } from "./w3c.ts";

export { type Attributes, type Context, type Span, SpanKind };

/** The instrumentation scope of the kit's spans. */
export const TRACER_NAME = "@runnerly/kit";

/** Where trace headers are read from: web `Headers`, NATS `MsgHdrs` (names as on the wire). */
export type Carrier = { get(name: string): string | null | undefined };
/** Where trace headers are written to. */
export type WritableCarrier = { set(name: string, value: string): void };

export type SpanOptions = {
  kind: SpanKind;
  /** The parent (default: the active context). */
  parent?: Context | undefined;
  attributes?: Attributes;
};

/**
 * The context whose remote parent is the `traceparent`/`tracestate` a message
 * carries, or `base` (default: no parent) when it carries none or a bad one.
 *
 * @example
 * const span = startSpan("process events.runs.run.logged", { kind: SpanKind.CONSUMER, parent: extractContext(m.headers) });
 */
export function extractContext(carrier: Carrier | null | undefined, base: Context = ROOT_CONTEXT): Context {
  const parent = parseTraceparent(carrier?.get("traceparent"), carrier?.get("tracestate"));
  return parent ? trace.setSpanContext(base, parent) : base;
}

/**
 * Writes a span's `traceparent` (and `tracestate`, if any) for the next hop.
 *
 * @example
 * const h = headers(); injectContext(span, h); await nc.request(subject, body, { headers: h });
 */
export function injectContext(span: Span | SpanContext, carrier: WritableCarrier): void {
  const sc = "spanContext" in span ? span.spanContext() : span;
  if (!isSpanContextValid(sc)) return;
  carrier.set("traceparent", formatTraceparent(sc));
  const state = sc.traceState?.serialize();
  if (state) carrier.set("tracestate", state);
}

/**
 * The context to parent a span on: the active one, unless `traceparent` names
 * another trace (a caller passing a request's context by hand) — then that.
 *
 * @example
 * const span = startSpan("stats/weeklyTotals", { kind: SpanKind.CLIENT, parent: parentContext(meta.traceparent) });
 */
export function parentContext(traceparent?: string | undefined): Context {
  const active = context.active();
  const explicit = parseTraceparent(traceparent);
  if (!explicit) return active;
  const current = trace.getSpanContext(active);
  if (current && isSpanContextValid(current) && current.traceId === explicit.traceId) return active;
  return trace.setSpanContext(active, explicit);
}

/**
 * Starts a span: recorded by the registered SDK, or else a non-recording span
 * that keeps the parent's trace id with a new span id (a new trace without a
 * parent). Never throws.
 *
 * @example
 * const span = startSpan("GET /api/runs/*", { kind: SpanKind.SERVER, parent: extractContext(req.headers) });
 * try { … } finally { span.end(); }
 */
export function startSpan(name: string, options: SpanOptions): Span {
  const parent = options.parent ?? context.active();
  const parentSc = trace.getSpanContext(parent);
  const valid = parentSc && isSpanContextValid(parentSc) ? parentSc : undefined;
  // Without an SDK the API's tracer would only hand back the parent's ids; skip it.
  const tracer = sdkTracer();
  if (!tracer) return trace.wrapSpanContext(childSpanContext(valid));
  try {
    const span = tracer.startSpan(name, { kind: options.kind, attributes: options.attributes ?? {} }, parent);
    const sc = span.spanContext();
    // The SDK gives even an unsampled span its own id; the API's no-op tracer gives the parent's, or none.
    if (span.isRecording() || (isSpanContextValid(sc) && sc.spanId !== valid?.spanId)) return span;
  } catch {
    // fall through: tracing must never break the work it watches
  }
  return trace.wrapSpanContext(childSpanContext(valid));
}

/**
 * The kit's tracer of the SDK that stands behind the API's global tracer
 * provider (the API's proxy: `trace.setGlobalTracerProvider` sets its
 * delegate), or undefined when none does. Asked per span, so an SDK
 * registered later is used from then on.
 */
function sdkTracer(): Tracer | undefined {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider
    ? provider.getDelegateTracer(TRACER_NAME)
    : provider.getTracer(TRACER_NAME);
}

/**
 * Runs `fn` inside a new span, active for everything `fn` awaits (where a
 * context manager is registered), and ends it; a throw marks it failed and
 * is rethrown.
 *
 * @example
 * await withSpan("rebuild totals", { kind: SpanKind.INTERNAL }, async (span) => rebuild());
 */
export async function withSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = startSpan(name, { ...options, parent });
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Runs `fn` with `span` active (a child of `parent`), for code that starts and
 * ends the span itself.
 *
 * @example
 * const parent = extractContext(msg.headers);
 * const span = startSpan("stats/weeklyTotals", { kind: SpanKind.SERVER, parent });
 * try { await inSpan(span, parent, () => handle(msg)); } finally { span.end(); }
 */
export function inSpan<T>(span: Span, parent: Context, fn: () => T): T {
  return context.with(trace.setSpan(parent, span), fn);
}

/** Marks a span failed with the error's name and message (no stack: it may hold details). */
export function failSpan(span: Span, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.setAttribute("error.type", err instanceof Error ? err.name : typeof err);
}

/**
 * Marks a span failed without an exception: by a status it answered or got
 * (a 5xx) or a named condition (`timeout`), which becomes the error type.
 */
export function failStatus(span: Span, status: number | string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, ...(typeof status === "string" ? { message: status } : {}) });
  span.setAttribute("error.type", String(status));
}

/** The `traceparent` naming `span` as the parent of the next hop. */
export function traceparentOf(span: Span): string {
  return formatTraceparent(span.spanContext());
}

/**
 * `{ traceId, spanId }` of a span, to bind into a logger so that every line
 * it writes names the trace.
 *
 * @example
 * const log = logger.child({ requestId, ...traceFields(span) });
 */
export function traceFields(span: Span): { traceId: string; spanId: string } {
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

/**
 * The span context the next hop descends from: the active span's, unless
 * `traceparent` names another trace (see `parentContext`); none outside a trace.
 *
 * @example
 * const cause = activeSpanContext(options.traceparent);
 * if (cause) injectContext(cause, eventHeaders);
 */
export function activeSpanContext(traceparent?: string | undefined): SpanContext | undefined {
  const sc = trace.getSpanContext(parentContext(traceparent));
  return sc && isSpanContextValid(sc) ? sc : undefined;
}
