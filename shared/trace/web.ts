/**
 * Tracing for web-standard code (the edge core): W3C trace context and spans
 * on `@opentelemetry/api` alone. No SDK here; `startTracing` (index.ts)
 * registers one in Bun processes.
 */
export { Attr } from "./attributes.ts";
export {
  type Attributes,
  activeSpanContext,
  type Carrier,
  type Context,
  extractContext,
  failSpan,
  failStatus,
  injectContext,
  inSpan,
  parentContext,
  type Span,
  SpanKind,
  type SpanOptions,
  startSpan,
  TRACER_NAME,
  traceFields,
  traceparentOf,
  type WritableCarrier,
  withSpan,
} from "./span.ts";
export { childSpanContext, formatTraceparent, parseTraceparent } from "./w3c.ts";
