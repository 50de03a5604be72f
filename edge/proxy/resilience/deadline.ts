/**
 * Deadlines at the edge: how long a request may take (a default and per-route
 * timeouts, longest prefix wins), how much of what is left one try may use so
 * that a retry still fits, and a sleep that stops when the request is over.
 * Web standards only.
 */

/** A timeout for every path under `prefix` (same matching rule as routing). */
export type RouteTimeout = { prefix: string; ms: number };

/**
 * How much earlier than the edge stops waiting a try's `Mesh-Deadline` ends:
 * a tenth of the try, at most 250 ms. The service commits nothing past its
 * deadline, and an answer it sends before then has this long to arrive.
 *
 * @example
 * replyMargin(10_000); // 250
 * replyMargin(600);    // 60
 */
export function replyMargin(timeoutMs: number): number {
  return Math.min(250, Math.max(0, Math.floor(timeoutMs / 10)));
}

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
 * carries) and an AbortSignal that fires at that time or when the client's
 * signal aborts (the client went away), whichever comes first.
 *
 * The signal, its timer and its listener are made only when something asks
 * for them (a retry's back-off, a half-open circuit): most requests are
 * answered by one try whose own timeout already ends at the deadline, and a
 * controller, a timer and two listeners per request were a measured share of
 * the edge's CPU. `over` answers without making any of them.
 *
 * @example
 * const deadline = new Deadline(2000, req.signal);
 * try { await work(deadline.signal); } finally { deadline.dispose(); }
 */
export class Deadline {
  readonly at: number;
  #controller: AbortController | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #unlink: (() => void) | null = null;

  constructor(
    readonly totalMs: number,
    private readonly parent?: AbortSignal,
    private readonly now: () => number = Date.now,
  ) {
    this.at = now() + totalMs;
  }

  get signal(): AbortSignal {
    return this.#arm().signal;
  }

  /** True once the deadline passed or the client went away. */
  get over(): boolean {
    return Boolean(this.#controller?.signal.aborted || this.parent?.aborted) || this.now() >= this.at;
  }

  remaining(now: number = this.now()): number {
    return Math.max(0, this.at - now);
  }

  /** Settles with true once the deadline passes or the request is aborted. */
  expired(): Promise<true> {
    const signal = this.signal;
    if (signal.aborted) return Promise.resolve(true);
    return new Promise((resolve) => signal.addEventListener("abort", () => resolve(true), { once: true }));
  }

  /** Clears the timer, if one was made; call when the request is answered. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#unlink?.();
  }

  #arm(): AbortController {
    if (this.#controller) return this.#controller;
    const controller = new AbortController();
    this.#controller = controller;
    this.#timer = setTimeout(() => controller.abort("deadline"), this.remaining());
    const parent = this.parent;
    if (parent) {
      const onParentAbort = () => controller.abort("client gone");
      parent.addEventListener("abort", onParentAbort, { once: true });
      this.#unlink = () => parent.removeEventListener("abort", onParentAbort);
      if (parent.aborted) onParentAbort();
    }
    return controller;
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
