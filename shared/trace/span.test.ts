/**
 * Trace context without an SDK: W3C parsing, and spans that keep the caller's
 * trace id with a new span id per hop, through NATS headers and the active
 * context, so trace ids reach every hop and log line with tracing off.
 */
import { describe, expect, test } from "bun:test";
import { headers as natsHeaders } from "@nats-io/nats-core";
import {
  activeSpanContext,
  extractContext,
  injectContext,
  parentContext,
  parseTraceparent,
  SpanKind,
  startSpan,
  startTracing,
  traceFields,
  traceparentOf,
  withSpan,
} from "./index.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const OTHER_TRACE = "0af7651916cd43dd8448eb211c80319c";
const PARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const HOP = new RegExp(`^00-${TRACE_ID}-([0-9a-f]{16})-01$`);

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
    [`  ${PARENT}\t`, true],
    [`cc-${TRACE_ID}-00f067aa0ba902b7-09`, true],
    [`00-${TRACE_ID}-00f067aa0ba902b7-0g`, false],
    [`00-${TRACE_ID}x-00f067aa0ba902b7-01`, false],
    ["", false],
  ])("%s → valid: %p", (value, valid) => {
    expect(parseTraceparent(value) !== null).toBe(valid);
  });

  test("a valid header is a remote span context with its flags and trace state", () => {
    const sc = parseTraceparent(
      `00-${TRACE_ID}-00f067aa0ba902b7-00`,
      " congo=t61rcWkgMzE , rojo=00f067aa0ba902b7",
    );
    expect(sc).toMatchObject({
      traceId: TRACE_ID,
      spanId: "00f067aa0ba902b7",
      traceFlags: 0,
      isRemote: true,
    });
    expect(sc?.traceState?.get("rojo")).toBe("00f067aa0ba902b7");
    expect(parseTraceparent(PARENT, "")?.traceState).toBeUndefined();
    expect(parseTraceparent(undefined, "congo=t61rcWkgMzE")).toBeNull();
  });
});

describe("with no OTLP endpoint", () => {
  const tracing = startTracing({ serviceName: "unit", env: {} });

  test("startTracing records nothing, yet each hop keeps the trace id with a new span id", async () => {
    expect(tracing.enabled).toBe(false);
    const h = natsHeaders();
    h.set("traceparent", PARENT);
    const server = startSpan("GET /things", { kind: SpanKind.SERVER, parent: extractContext(h) });
    expect(server.isRecording()).toBe(false);
    expect(traceparentOf(server)).toMatch(HOP);
    expect(traceparentOf(server)).not.toBe(PARENT);

    // Inside the server span, an RPC client span and an event's record descend from it.
    await withSpan("handle", { kind: SpanKind.INTERNAL, parent: extractContext(h) }, async (span) => {
      await Promise.resolve(); // across an await
      expect(activeSpanContext()?.spanId).toBe(span.spanContext().spanId);
      const client = startSpan("stats/weeklyTotals", { kind: SpanKind.CLIENT, parent: parentContext() });
      const out = natsHeaders();
      injectContext(client, out);
      expect(out.get("traceparent")).toMatch(HOP);
      expect(out.get("traceparent")).not.toBe(traceparentOf(span));
      // The consumer of those headers continues the same trace, one more hop down.
      const consumer = startSpan("process", { kind: SpanKind.CONSUMER, parent: extractContext(out) });
      expect(traceFields(consumer).traceId).toBe(TRACE_ID);
    });
  });

  test("a message without a usable traceparent starts a new sampled trace", () => {
    for (const value of [undefined, "garbage"]) {
      const h = natsHeaders();
      if (value) h.set("traceparent", value);
      const span = startSpan("process", { kind: SpanKind.CONSUMER, parent: extractContext(h) });
      expect(traceparentOf(span)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(traceFields(span).traceId).not.toBe(TRACE_ID);
    }
  });

  test("an explicit traceparent wins only when it names another trace than the active span's", async () => {
    await withSpan(
      "request",
      { kind: SpanKind.SERVER, parent: extractContext(new Headers({ traceparent: PARENT })) },
      () => {
        const active = activeSpanContext();
        expect(activeSpanContext(PARENT)?.spanId).toBe(active?.spanId);
        const other = `00-${OTHER_TRACE}-b7ad6b7169203331-01`;
        expect(activeSpanContext(other)?.traceId).toBe(OTHER_TRACE);
        expect(activeSpanContext(other)?.spanId).toBe("b7ad6b7169203331");
      },
    );
    expect(activeSpanContext()).toBeUndefined();
  });

  test("tracestate travels with a valid traceparent", () => {
    const h = new Headers({ traceparent: PARENT, tracestate: "congo=t61rcWkgMzE" });
    const span = startSpan("GET", { kind: SpanKind.SERVER, parent: extractContext(h) });
    const out = natsHeaders();
    injectContext(span, out);
    expect(out.get("tracestate")).toBe("congo=t61rcWkgMzE");
  });
});
