/**
 * The edge's hop of a trace without an SDK (as on Deno and workerd, or with
 * no OTLP endpoint): the client's trace id and flags are kept, the edge's
 * span gets a new id, and a missing or bad traceparent starts a new trace.
 */
import { describe, expect, test } from "bun:test";
import { startRequestSpan, traceContextOf } from "./trace.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const FORMAT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

function edgeHop(headers: Record<string, string>) {
  const { span } = startRequestSpan(new Headers(headers), "GET /api/runs", {});
  span.end();
  return traceContextOf(span);
}

describe("startRequestSpan", () => {
  test("keeps the caller's trace id and flags, with a new span id, and its tracestate", () => {
    const t = edgeHop({ traceparent: PARENT, tracestate: "congo=t61rcWkgMzE" });
    expect(t.traceId).toBe(TRACE_ID);
    expect(t.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(t.traceparent).not.toBe(PARENT);
    expect(t.tracestate).toBe("congo=t61rcWkgMzE");
  });

  test("keeps an unsampled caller unsampled", () => {
    expect(edgeHop({ traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-00` }).traceparent).toEndWith("-00");
  });

  test("starts a new sampled trace when there is no traceparent", () => {
    const t = edgeHop({});
    expect(t.traceparent).toMatch(FORMAT);
    expect(t.traceparent.endsWith("-01")).toBe(true);
    expect(t.traceparent.slice(3, 35)).toBe(t.traceId);
    expect(edgeHop({}).traceId).not.toBe(t.traceId);
  });

  test("drops the tracestate of an invalid traceparent", () => {
    const t = edgeHop({ traceparent: "garbage", tracestate: "congo=t61rcWkgMzE" });
    expect(t.traceparent).toMatch(FORMAT);
    expect(t.traceId).not.toBe(TRACE_ID);
    expect(t.tracestate).toBeUndefined();
  });
});
