/**
 * The web-standard part of the kit (no Bun or Node APIs): the wire protocol,
 * the error type, trace context (`@opentelemetry/api` only) and configuration
 * (`loadConfig`, `loadOrExit`, the NATS keys). The edge imports only this entry
 * so it runs on Deno and workerd.
 */
export * from "./config/load.ts";
export * from "./config/nats.ts";
export * from "./errors/index.ts";
export { type Logger, lazyChild } from "./log/logger.ts";
export * from "./protocol/index.ts";
export * from "./trace/web.ts";
