/**
 * `startTracing` in one process: where spans go, that they reach an OTLP/HTTP
 * receiver with their service name and parent links, and that shutting down
 * leaves the process as it was (no SDK; trace ids still flow).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { silentLogger } from "../log/logger.ts";
import { waitFor } from "../testing/wait.ts";
import { SpanKind, startSpan, startTracing, tracesEndpoint, withSpan } from "./index.ts";
import { OtlpReceiver } from "./testdata/otlp-receiver.ts";

describe("tracesEndpoint", () => {
  test.each([
    [{}, undefined],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }, "http://c:4318/v1/traces"],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/base/" }, "http://c:4318/base/v1/traces"],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t/x" },
      "http://t/x",
    ],
  ])("%p → %p", (env, url) => {
    expect(tracesEndpoint(env)).toBe(url);
  });
});

describe("startTracing", () => {
  const receiver = OtlpReceiver.start();
  afterAll(() => receiver.stop());

  test("is off without an endpoint, when disabled, and with an endpoint it cannot use", () => {
    const cases = [
      {},
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: "true" },
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_EXPORTER: "none" },
      { OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" },
    ];
    for (const env of cases) {
      expect(startTracing({ serviceName: "off", env, logger: silentLogger }).enabled).toBe(false);
    }
  });

  test("exports spans with their service and parent, then shuts down to no SDK at all", async () => {
    const tracing = startTracing({
      serviceName: "probe",
      version: "1.2.3",
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    });
    expect(tracing.enabled).toBe(true);
    expect(tracing.endpoint).toBe(`${receiver.url}/v1/traces`);
    const ids = await withSpan("outer", { kind: SpanKind.SERVER }, async (outer) => {
      const inner = startSpan("inner", { kind: SpanKind.CLIENT });
      inner.end();
      expect(outer.isRecording()).toBe(true);
      return { outer: outer.spanContext(), inner: inner.spanContext() };
    });
    await tracing.flush();
    const spans = await waitFor(
      () => (receiver.trace(ids.outer.traceId).length === 2 ? receiver.spans : null),
      {
        what: "both spans exported",
      },
    );
    const inner = spans.find((s) => s.name === "inner");
    expect(inner).toMatchObject({ service: "probe", kind: 3, parentSpanId: ids.outer.spanId });
    expect(spans.find((s) => s.name === "outer")).toMatchObject({ kind: 2, parentSpanId: undefined });

    await tracing.shutdown();
    const after = startSpan("after", { kind: SpanKind.INTERNAL });
    expect(after.isRecording()).toBe(false);
    expect(after.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});
