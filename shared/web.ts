/**
 * The web-standard part of the kit (no Bun or Node APIs): the wire protocol,
 * the error type, trace context (`@opentelemetry/api` only) and configuration
 * (`loadConfig`, `loadOrExit`, the NATS keys) and request-reply over NATS
 * (`Requester`, nats-core's core API only). The edge imports only this entry
 * so it runs on Deno and workerd.
 */
export * from "./config/load.ts";
export * from "./config/nats.ts";
export * from "./errors/index.ts";
export { type Logger, lazyChild } from "./log/logger.ts";
export { inboxPrefixOf, isNoRespondersReply, Requester } from "./nats/requester.ts";
export * from "./protocol/index.ts";
export * from "./trace/web.ts";
