/**
 * The W3C Trace Context headers (https://www.w3.org/TR/trace-context/) as
 * OpenTelemetry span contexts. The header is parsed by `@opentelemetry/core`'s
 * `parseTraceParent` (the W3C propagator's own rules); the rest is
 * `@opentelemetry/api` and web standards, so the edge runs it on Bun, Deno and
 * workerd alike, and propagation works whether or not an SDK is registered.
 */
import { createTraceState, type SpanContext, TraceFlags } from "@opentelemetry/api";
import { parseTraceParent } from "@opentelemetry/core";

const ALL_ZERO = /^0+$/;

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
  // Version ff, all-zero ids, upper-case hex and extra fields after version 00 are refused there.
  const parsed = value ? parseTraceParent(value.trim()) : null;
  if (!parsed) return null;
  const state = tracestate?.trim();
  return {
    ...parsed,
    isRemote: true,
    ...(state ? { traceState: createTraceState(state) } : {}),
  };
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
