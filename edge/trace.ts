/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) at the edge: the
 * edge is one hop of the trace, so it keeps the caller's trace id and gives the
 * service a new parent span id. Web standards only (crypto.getRandomValues).
 */

/** The trace context the edge forwards to a service. */
export type TraceContext = {
  /** 32 lowercase hex digits, shared by every hop of the request. */
  traceId: string;
  /** `00-<trace id>-<span id>-<flags>`, the value of the `traceparent` header. */
  traceparent: string;
  /** The caller's `tracestate`, kept only when its `traceparent` was valid. */
  tracestate?: string | undefined;
};

// version-traceid-parentid-flags; a future version may append fields after a dash.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO = /^0+$/;

/**
 * Continues the caller's trace when its `traceparent` is valid (same trace id
 * and sampled flag, a new span id for the edge's hop), or starts a new sampled
 * trace otherwise. A malformed header is ignored, never an error: tracing must
 * not break a request.
 *
 * @example
 * const trace = continueTrace(req.headers.get("traceparent"), req.headers.get("tracestate"));
 * // trace.traceparent === "00-4bf92f3577b34da6a3ce929d0e0e4736-<new span id>-01"
 */
export function continueTrace(traceparent: string | null, tracestate: string | null): TraceContext {
  const parent = parseTraceparent(traceparent);
  if (!parent) {
    const traceId = randomHex(16);
    return { traceId, traceparent: `00-${traceId}-${randomHex(8)}-01` };
  }
  return {
    traceId: parent.traceId,
    traceparent: `00-${parent.traceId}-${randomHex(8)}-${parent.flags}`,
    tracestate: tracestate?.trim() || undefined,
  };
}

/** Parses a `traceparent` header; null when it is absent or invalid per the W3C rules. */
export function parseTraceparent(value: string | null): { traceId: string; flags: string } | null {
  if (!value) return null;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return null;
  const [, version, traceId, spanId, flags, rest] = m;
  if (!version || !traceId || !spanId || !flags) return null;
  if (version === "ff" || (version === "00" && rest !== undefined)) return null;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(spanId)) return null;
  return { traceId, flags };
}

function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  let hex = "";
  for (const b of buf) hex += b.toString(16).padStart(2, "0");
  // An all-zero id is invalid; the odds are 2^-64 at worst, but cheap to rule out.
  return ALL_ZERO.test(hex) ? randomHex(bytes) : hex;
}
