/**
 * The OpenTelemetry SDK for a Bun process (a service, an edge worker): spans
 * batched and exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `…_TRACES_ENDPOINT`) is set, the W3C trace-context propagator, and an
 * AsyncLocalStorage context manager so the span of a request is the active
 * one in everything it awaits. Bun/Node only: web-standard code uses span.ts.
 * The SDK itself (sdk-provider.ts) is loaded when tracing starts, not when
 * the kit is imported.
 */
import { context, diag, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import type { Sampler, TracerProvider } from "@opentelemetry/sdk-trace";
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
      provider = sdk().createProvider(options, env, endpoint);
    } catch (err) {
      // A bad endpoint costs the traces, never the service.
      options.logger?.error({ endpoint, err: String(err) }, "tracing: not started");
      return DISABLED;
    }
    installed = { provider, endpoint, users: 0 };
    trace.setGlobalTracerProvider(installed.provider);
    sdk().installGlobals(options.logger);
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

/**
 * The SDK's parts, loaded on first use. A synchronous load keeps
 * `startTracing` synchronous: the provider is there before the first span.
 * The file is `.ts` in the sources and `.js` in the built package; both are
 * named by a literal, so that a bundle (`runnerly build`) carries the file.
 */
function sdk(): typeof import("./sdk-provider.ts") {
  return import.meta.url.endsWith(".ts") ? require("./sdk-provider.ts") : require("./sdk-provider.js");
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
  return sdk().samplerFromEnv(env);
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
