import { describe, expect, test } from "bun:test";
import { continueTrace, parseTraceparent } from "./trace.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const FORMAT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

describe("continueTrace", () => {
  test("keeps the caller's trace id and flags, with a new span id, and its tracestate", () => {
    const t = continueTrace(PARENT, "congo=t61rcWkgMzE");
    expect(t.traceId).toBe(TRACE_ID);
    expect(t.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(t.traceparent).not.toBe(PARENT);
    expect(t.tracestate).toBe("congo=t61rcWkgMzE");
  });

  test("starts a new sampled trace when there is no traceparent", () => {
    const t = continueTrace(null, null);
    expect(t.traceparent).toMatch(FORMAT);
    expect(t.traceparent.endsWith("-01")).toBe(true);
    expect(t.traceparent.slice(3, 35)).toBe(t.traceId);
    expect(continueTrace(null, null).traceId).not.toBe(t.traceId);
  });

  test("drops the tracestate of an invalid traceparent", () => {
    const t = continueTrace("garbage", "congo=t61rcWkgMzE");
    expect(t.traceparent).toMatch(FORMAT);
    expect(t.tracestate).toBeUndefined();
  });
});

describe("parseTraceparent", () => {
  test.each([
    [PARENT, true],
    [`01-${TRACE_ID}-00f067aa0ba902b7-01-future`, true],
    [`00-${TRACE_ID}-00f067aa0ba902b7-01-extra`, false],
    [`ff-${TRACE_ID}-00f067aa0ba902b7-01`, false],
    [`00-${"0".repeat(32)}-00f067aa0ba902b7-01`, false],
    [`00-${TRACE_ID}-${"0".repeat(16)}-01`, false],
    [`00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`, false],
    [`00-${TRACE_ID}-00f067aa0ba902b7`, false],
    ["", false],
  ])("%s → valid: %p", (value, valid) => {
    expect(parseTraceparent(value) !== null).toBe(valid);
  });
});
