/**
 * Deadlines at the edge: how long a request may take (a default and per-route
 * timeouts, longest prefix wins), how much of what is left one try may use so
 * that a retry still fits, and a sleep that stops when the request is over.
 * Web standards only.
 */

/** A timeout for every path under `prefix` (same matching rule as routing). */
export type RouteTimeout = { prefix: string; ms: number };

/** Below this, a try cannot reach a service and come back; the edge stops trying. */
export const MIN_USEFUL_TRY_MS = 20;

/**
 * The timeout of a path: the one of the longest matching prefix in
 * `routeTimeouts`, else `fallbackMs`. A prefix matches the path itself and
 * the paths below it (`/api/runs` matches `/api/runs/7`, not `/api/runsx`).
 *
 * @example
 * timeoutFor("/api/stats/reports/2026", [{ prefix: "/api/stats/reports", ms: 8000 }], 10_000); // 8000
 */
export function timeoutFor(path: string, routeTimeouts: readonly RouteTimeout[], fallbackMs: number): number {
  let best: RouteTimeout | undefined;
  for (const rt of routeTimeouts) {
    const p = rt.prefix.length > 1 && rt.prefix.endsWith("/") ? rt.prefix.slice(0, -1) : rt.prefix;
    const matches = p === "/" || path === p || (path.startsWith(p) && path.charCodeAt(p.length) === 47);
    if (matches && (!best || p.length > best.prefix.length)) best = { prefix: p, ms: rt.ms };
  }
  return best?.ms ?? fallbackMs;
}

/**
 * How long one try may wait: a third of what is left, but at least `minMs`
 * and never past the deadline, so a try that hits a dead instance leaves room
 * for another. A try that cannot be followed by a retry (`last`) gets all that
 * is left.
 *
 * @example
 * perTryTimeout(9000, 250, false); // 3000
 * perTryTimeout(600, 250, false);  // 250
 * perTryTimeout(100, 250, false);  // 100
 * perTryTimeout(9000, 250, true);  // 9000
 */
export function perTryTimeout(remainingMs: number, minMs: number, last: boolean): number {
  const remaining = Math.max(0, Math.floor(remainingMs));
  if (last) return remaining;
  return Math.min(remaining, Math.max(minMs, Math.floor(remaining / 3)));
}

/**
 * One request's deadline: an absolute time (Unix ms, what `Mesh-Deadline`
 * carries) and an AbortSignal that fires at that time or when `abort()` is
 * called (the client went away), whichever comes first.
 *
 * @example
 * const deadline = new Deadline(2000, req.signal);
 * try { await work(deadline.signal); } finally { deadline.dispose(); }
 */
export class Deadline {
  readonly at: number;
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout>;
  readonly #unlink: () => void;

  constructor(
    readonly totalMs: number,
    parent?: AbortSignal,
    now: () => number = Date.now,
  ) {
    this.at = now() + totalMs;
    this.#timer = setTimeout(() => this.#controller.abort("deadline"), totalMs);
    const onParentAbort = () => this.#controller.abort("client gone");
    parent?.addEventListener("abort", onParentAbort, { once: true });
    this.#unlink = () => parent?.removeEventListener("abort", onParentAbort);
    if (parent?.aborted) onParentAbort();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  remaining(now: number = Date.now()): number {
    return Math.max(0, this.at - now);
  }

  /** Settles with true once the deadline passes or the request is aborted. */
  expired(): Promise<true> {
    const signal = this.#controller.signal;
    if (signal.aborted) return Promise.resolve(true);
    return new Promise((resolve) => signal.addEventListener("abort", () => resolve(true), { once: true }));
  }

  /** Clears the timer; call when the request is answered. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#unlink();
  }
}

/**
 * Waits `ms`, or less when `signal` aborts first. Resolves true when the full
 * time passed, false when it was cut short.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
