/**
 * The parts of the OpenTelemetry SDK a process needs only once it exports
 * spans: the tracer provider with its sampler, batch processor and resource,
 * the W3C propagator, and the OTLP exporter (itself imported only when the
 * first provider is made). sdk.ts loads this file when tracing starts, so a
 * process without a collector never imports `@opentelemetry/sdk-trace`,
 * `resources`, `core` or the semantic conventions (about 25 ms of start-up).
 */
import { DiagLogLevel, diag, propagation } from "@opentelemetry/api";
import {
  type ExportResult,
  ExportResultCode,
  parseKeyPairsIntoRecord,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import type { Logger } from "../log/logger.ts";

type Env = Record<string, string | undefined>;

/** Makes the provider for `options`; throws (tracing stays off) when the endpoint is not an http(s) URL. */
export function createProvider(
  options: { serviceName: string; version?: string | undefined },
  env: Env,
  url: string,
): TracerProvider {
  const headers = {
    ...parseKeyPairsIntoRecord(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseKeyPairsIntoRecord(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
  };
  const exporter = new LazyOtlpExporter(otlpUrl(url), headers);
  const resource = defaultResource()
    .merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: options.serviceName,
        ...(options.version ? { [ATTR_SERVICE_VERSION]: options.version } : {}),
      }),
    )
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the code's names.
    .merge(detectResources({ detectors: [envDetector] }));
  const bsp = (key: string) => positiveInt(env[`OTEL_BSP_${key}`]);
  const processor = new BatchSpanProcessor({
    exporter,
    scheduledDelayMillis: bsp("SCHEDULE_DELAY"),
    exportTimeoutMillis: bsp("EXPORT_TIMEOUT"),
    maxQueueSize: bsp("MAX_QUEUE_SIZE"),
    maxExportBatchSize: bsp("MAX_EXPORT_BATCH_SIZE"),
  });
  return new TracerProvider({ resource, sampler: samplerFromEnv(env), spanProcessors: [processor] });
}

/** An OTLP/HTTP endpoint as a URL; throws (tracing stays off) when it is not an http(s) URL. */
function otlpUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new TypeError(`not an http(s) URL: ${url}`);
  return url;
}

/**
 * The OTLP/HTTP exporter, imported only once tracing is on: loading it costs
 * about 100 ms of every process's start-up (a third of the kit's own
 * imports), for processes that mostly run without a collector. The import
 * starts at once; spans ended before it is done wait in the batch processor.
 */
class LazyOtlpExporter implements SpanExporter {
  readonly #exporter: Promise<SpanExporter>;

  constructor(url: string, headers: Record<string, string>) {
    this.#exporter = import("@opentelemetry/exporter-trace-otlp-http").then(
      ({ OTLPTraceExporter }) => new OTLPTraceExporter({ url, headers }),
    );
    // A failed import is reported by every export (OpenTelemetry's diag logger says so).
    this.#exporter.catch(() => {});
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.#exporter.then(
      (exporter) => exporter.export(spans, done),
      (error: Error) => done({ code: ExportResultCode.FAILED, error }),
    );
  }

  async forceFlush(): Promise<void> {
    const exporter = await this.#exporter.catch(() => null);
    await exporter?.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    const exporter = await this.#exporter.catch(() => null);
    await exporter?.shutdown();
  }
}

/** Registers the W3C propagator and, with a logger, OpenTelemetry's own warnings in it. */
export function installGlobals(logger: Logger | undefined): void {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  if (logger) diag.setLogger(diagLogger(logger), DiagLogLevel.WARN);
}

/** The sampler `OTEL_TRACES_SAMPLER` names (default: parent-based, always on at the root). */
export function samplerFromEnv(env: Env): Sampler {
  const raw = Number(env.OTEL_TRACES_SAMPLER_ARG);
  const ratio = Number.isFinite(raw) && raw >= 0 && raw <= 1 ? raw : 1;
  switch (env.OTEL_TRACES_SAMPLER?.trim()) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratio);
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

function diagLogger(logger: Logger) {
  const log = logger.child({ component: "opentelemetry" });
  const write =
    (level: "warn" | "error") =>
    (message: string, ...args: unknown[]) =>
      log[level]({ details: args.map(String) }, message);
  return { error: write("error"), warn: write("warn"), info() {}, debug() {}, verbose() {} };
}

function positiveInt(value: string | undefined): number | undefined {
  const n = Number(value);
  return value && Number.isInteger(n) && n > 0 ? n : undefined;
}
