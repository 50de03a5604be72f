/**
 * JSON logs. `createLogger` returns a pino logger bound to the service name;
 * `child({ requestId, traceId })` binds request context. Code that must stay
 * web-standard (the edge core) depends only on the `Logger` interface.
 */
import pino from "pino";

/** The subset of pino's API the kit and the edge use. */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

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

/** A logger that discards everything (for tests that don't care about logs). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
