/** The subset of pino's API the kit and the edge use; web-standard code depends only on this. */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
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

/**
 * A child logger made only when something is logged: a request's logger is
 * bound to its ids on every request, but most requests log nothing (a pino
 * child per request was measured on the service's request path).
 *
 * @example
 * c.set("log", lazyChild(logger, () => ({ requestId, traceId })));
 */
export function lazyChild(parent: Logger, bindings: () => Record<string, unknown>): Logger {
  let bound: Logger | null = null;
  const get = () => {
    bound ??= parent.child(bindings());
    return bound;
  };
  return {
    debug: (obj, msg) => get().debug(obj, msg),
    info: (obj, msg) => get().info(obj, msg),
    warn: (obj, msg) => get().warn(obj, msg),
    error: (obj, msg) => get().error(obj, msg),
    child: (more) => get().child(more),
  };
}
