/**
 * Traces across every hop: the edge, a service's HTTP requests, RPC calls,
 * and events through the outbox into their consumers. `startTracing` exports
 * spans over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; without it
 * trace ids still flow (a new span id per hop) and reach every log line.
 */
export {
  samplerFromEnv,
  startTracing,
  type Tracing,
  type TracingOptions,
  tracesEndpoint,
  useAsyncContext,
} from "./sdk.ts";
export * from "./web.ts";
