/**
 * The OpenTelemetry SDK for a Bun process (a service, an edge worker): spans
 * batched and exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `…_TRACES_ENDPOINT`) is set, the W3C trace-context propagator, and an
 * AsyncLocalStorage context manager so the span of a request is the active
 * one in everything it awaits. Bun/Node only: web-standard code uses span.ts.
 */
import { context, DiagLogLevel, diag, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
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

export type TracingOptions = {
  /** `service.name` of every span (`OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES` override it). */
  serviceName: string;
  /** `service.version`. */
  version?: string | undefined;
  /** Where the `OTEL_*` keys are read (default `process.env`). */
  env?: Env;
  /** Says where spans go, and reports export failures. */
  logger?: Logger;
};

export type Tracing = {
  /** True when spans are recorded and exported. */
  enabled: boolean;
  /** Where spans are sent (`…/v1/traces`), when enabled. */
  endpoint: string | undefined;
  /** Exports the spans ended so far (waits at most 2 s). */
  flush(): Promise<void>;
  /** Exports what is left (waits at most 2 s) and unregisters the SDK (the last user of the process does). */
  shutdown(): Promise<void>;
};

// How long a flush may hold a shutdown when the collector is slow or gone (its spans are then lost).
const FLUSH_WAIT_MS = 2000;
// One tracer provider per process: every span is one service's (a process runs one).
let installed: { provider: TracerProvider; endpoint: string; users: number } | null = null;
let contextManager = false;

/**
 * Makes the span of a request the active one across its awaits (an
 * AsyncLocalStorage context manager). Idempotent; the kit calls it wherever
 * it starts spans, so the outbox and RPC clients find the current span.
 */
export function useAsyncContext(): void {
  if (contextManager) return;
  contextManager = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

/**
 * Registers the OpenTelemetry SDK when an OTLP endpoint is configured, else
 * does nothing but keep trace ids flowing (span.ts). Honours
 * `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT|HEADERS|TIMEOUT`, `OTEL_SDK_DISABLED`,
 * `OTEL_TRACES_EXPORTER=none`, `OTEL_TRACES_SAMPLER[_ARG]`, `OTEL_BSP_*`,
 * `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`. Spans go as OTLP/HTTP JSON.
 *
 * @example
 * const tracing = startTracing({ serviceName: "runs", version: "1.0.0", logger });
 * …
 * await tracing.shutdown(); // on SIGTERM, after the service stopped
 */
export function startTracing(options: TracingOptions): Tracing {
  useAsyncContext();
  const env = options.env ?? process.env;
  const endpoint = tracesEndpoint(env);
  const off = !endpoint || isTrue(env.OTEL_SDK_DISABLED) || env.OTEL_TRACES_EXPORTER?.trim() === "none";
  if (off) return DISABLED;
  if (!installed) {
    let provider: TracerProvider;
    try {
      provider = createProvider(options, env, endpoint);
    } catch (err) {
      // A bad endpoint costs the traces, never the service.
      options.logger?.error({ endpoint, err: String(err) }, "tracing: not started");
      return DISABLED;
    }
    installed = { provider, endpoint, users: 0 };
    trace.setGlobalTracerProvider(installed.provider);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    if (options.logger) diag.setLogger(diagLogger(options.logger), DiagLogLevel.WARN);
    const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
    if (protocol && protocol !== "http/json") {
      options.logger?.warn({ protocol }, "traces are exported as OTLP/HTTP JSON (http/json)");
    }
    options.logger?.info({ endpoint }, "tracing: exporting spans over OTLP/HTTP");
  }
  const current = installed;
  current.users++;
  let done = false;
  return {
    enabled: true,
    endpoint: current.endpoint,
    flush: () => within(current.provider.forceFlush(), FLUSH_WAIT_MS),
    async shutdown() {
      if (done) return;
      done = true;
      if (--current.users > 0) return within(current.provider.forceFlush(), FLUSH_WAIT_MS);
      if (installed === current) installed = null;
      await within(current.provider.shutdown(), FLUSH_WAIT_MS);
      trace.disable();
      propagation.disable();
      diag.disable();
    },
  };
}

const DISABLED: Tracing = {
  enabled: false,
  endpoint: undefined,
  flush: async () => {},
  shutdown: async () => {},
};

function createProvider(options: TracingOptions, env: Env, url: string): TracerProvider {
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

/** `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
export function tracesEndpoint(env: Env): string | undefined {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (specific) return specific;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!base) return undefined;
  return `${base.replace(/\/+$/, "")}/v1/traces`;
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

function isTrue(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === "true";
}

/** Waits for `p`, but never longer than `ms`: an unreachable collector must not hold a shutdown. */
async function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<void>((r) => {
    timer = setTimeout(r, ms);
  });
  await Promise.race([p.catch(() => {}), limit]);
  clearTimeout(timer);
}
