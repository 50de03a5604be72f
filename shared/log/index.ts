/**
 * JSON logs. `createLogger` returns a pino logger bound to the service name;
 * `child({ requestId, ...traceFields(span) })` binds request context, and a
 * line written while a span is active (a request, an RPC call, an event being
 * handled) names its trace even through a logger bound to no request. Code
 * that must stay web-standard (the edge core) depends only on the `Logger`
 * interface.
 */
import pino from "pino";
import { activeSpanContext } from "../trace/span.ts";
import type { Logger } from "./logger.ts";

export { type Logger, lazyChild, silentLogger } from "./logger.ts";

/**
 * A pino logger writing one JSON object per line to stdout.
 *
 * @example
 * const log = createLogger("runs");
 * log.child({ requestId }).info({ runId }, "run created");
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: traceOfActiveSpan,
  });
}

/** `{ traceId, spanId }` of the active span, unless the logger is bound to a trace already. */
function traceOfActiveSpan(_obj: object, _level: number, logger: pino.Logger): object {
  const sc = activeSpanContext();
  if (!sc) return {}; // a new object each time: pino merges the line's fields into it
  const bound = (logger as unknown as Record<symbol, string | undefined>)[pino.symbols.chindingsSym];
  if (bound?.includes('"traceId":')) return {};
  return { traceId: sc.traceId, spanId: sc.spanId };
}
