/**
 * The W3C Trace Context headers (https://www.w3.org/TR/trace-context/) as
 * OpenTelemetry span contexts, on `@opentelemetry/api` and web standards
 * alone, so the edge runs it on Bun, Deno and workerd alike, and propagation
 * works whether or not an SDK is registered. The header is read by the rules
 * of OpenTelemetry's W3C propagator (shared/trace/span.test.ts holds them),
 * not by `@opentelemetry/core`'s `parseTraceParent`: importing that package
 * for one regular expression cost about 30 ms of every process's start-up
 * (README, "Speed on the request path").
 */
import { createTraceState, type SpanContext, TraceFlags } from "@opentelemetry/api";

const ALL_ZERO = /^0+$/;
// version-traceid-parentid-flags, lower-case hex; a later version may add fields after a dash.
const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})(-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/**
 * Parses a `traceparent` header (and its `tracestate`) into a remote span
 * context; null when it is absent or invalid per the W3C rules. A malformed
 * header is ignored, never an error: tracing must not break a request.
 *
 * @example
 * parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")?.traceId;
 * // "4bf92f3577b34da6a3ce929d0e0e4736"
 */
export function parseTraceparent(
  value: string | null | undefined,
  tracestate?: string | null | undefined,
): SpanContext | null {
  const match = value ? TRACEPARENT.exec(value.trim()) : null;
  if (!match) return null;
  const [, version, traceId, spanId, flags, extra] = match as unknown as string[];
  // Version ff is invalid, version 00 has exactly four fields, and all-zero ids name nothing.
  if (version === "ff" || (version === "00" && extra) || traceId === ZERO_TRACE || spanId === ZERO_SPAN)
    return null;
  const state = tracestate?.trim();
  const sc: SpanContext = {
    traceId: traceId!,
    spanId: spanId!,
    traceFlags: Number.parseInt(flags!, 16),
    isRemote: true,
  };
  if (state) sc.traceState = createTraceState(state);
  return sc;
}

/**
 * The `traceparent` header naming a span context as the parent of the next hop.
 *
 * @example
 * h.set("traceparent", formatTraceparent(span.spanContext()));
 */
export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/**
 * A span context for a new hop without an SDK: the parent's trace id, flags
 * and trace state with a new span id, or a new sampled trace without a parent.
 */
export function childSpanContext(parent: SpanContext | undefined): SpanContext {
  if (!parent) return { traceId: randomHex(16), spanId: randomHex(8), traceFlags: TraceFlags.SAMPLED };
  return {
    traceId: parent.traceId,
    spanId: randomHex(8),
    traceFlags: parent.traceFlags,
    ...(parent.traceState ? { traceState: parent.traceState } : {}),
  };
}

// Ids are drawn from a pool of random bytes refilled 4 KiB at a time, written
// with a lookup table: one getRandomValues and a byte-by-byte padStart per id
// were a visible share of the edge's CPU per request.
const POOL = new Uint8Array(4096);
let poolAt = POOL.length;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function randomHex(bytes: number): string {
  if (poolAt + bytes > POOL.length) {
    crypto.getRandomValues(POOL);
    poolAt = 0;
  }
  let hex = "";
  for (let i = poolAt; i < poolAt + bytes; i++) hex += HEX[POOL[i]!];
  poolAt += bytes;
  // An all-zero id is invalid; the odds are 2^-64 at worst, but cheap to rule out.
  return ALL_ZERO.test(hex) ? randomHex(bytes) : hex;
}
