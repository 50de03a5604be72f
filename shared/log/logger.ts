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
  return new LazyChild(parent, bindings);
}

// A class, not an object of closures: one allocation per request instead of six.
class LazyChild implements Logger {
  #bound: Logger | null = null;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: () => Record<string, unknown>,
  ) {}

  #get(): Logger {
    this.#bound ??= this.parent.child(this.bindings());
    return this.#bound;
  }

  debug(obj: object | string, msg?: string): void {
    this.#get().debug(obj, msg);
  }

  info(obj: object | string, msg?: string): void {
    this.#get().info(obj, msg);
  }

  warn(obj: object | string, msg?: string): void {
    this.#get().warn(obj, msg);
  }

  error(obj: object | string, msg?: string): void {
    this.#get().error(obj, msg);
  }

  child(more: Record<string, unknown>): Logger {
    return this.#get().child(more);
  }
}
