/**
 * JSON logs. `createLogger` returns a pino logger bound to the service name;
 * `child({ requestId, traceId })` binds request context. Code that must stay
 * web-standard (the edge core) depends only on the `Logger` interface.
 */
import pino from "pino";

import type { Logger } from "./logger.ts";

export { type Logger, silentLogger } from "./logger.ts";

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
  });
}
