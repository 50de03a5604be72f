/**
 * Restart with backoff, for whatever a launcher keeps alive: a child process
 * of the dev launcher, a Worker of the one-process launcher, an edge worker
 * process. Something that keeps dying young waits longer before each restart
 * (doubling up to a ceiling); a run that lasted `healthyAfterMs` counts as
 * healthy, and the next end restarts at the first delay again.
 */

export type RestartOptions = {
  /** The delay before the first restart of a streak (500 ms). */
  firstDelayMs?: number;
  /** The longest delay (10 s). */
  maxDelayMs?: number;
  /** A run at least this long counts as healthy and ends a streak (10 s). */
  healthyAfterMs?: number;
  /** Restart at once after a healthy run; back off only from the second end in a row (false). */
  immediateFirst?: boolean;
};

/**
 * Schedules the restarts of one supervised thing. `ended(ranMs, restart)` is
 * called each time it ends on its own; `stop()` cancels a pending restart
 * and schedules no more.
 *
 * @example
 * const restarts = new RestartWithBackoff();
 * proc.exited.then(() => {
 *   const delay = restarts.ended(Date.now() - startedAt, start);
 *   log(`exited; restarting in ${delay / 1000} s`);
 * });
 */
export class RestartWithBackoff {
  readonly #o: Required<RestartOptions>;
  #failuresInARow = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;

  constructor(options: RestartOptions = {}) {
    this.#o = {
      firstDelayMs: 500,
      maxDelayMs: 10_000,
      healthyAfterMs: 10_000,
      immediateFirst: false,
      ...options,
    };
  }

  /** The delay before the next restart after a run of `ranMs`, counting this end. */
  nextDelay(ranMs: number): number {
    const { firstDelayMs, maxDelayMs, healthyAfterMs, immediateFirst } = this.#o;
    this.#failuresInARow = ranMs >= healthyAfterMs ? 1 : this.#failuresInARow + 1;
    const step = this.#failuresInARow - (immediateFirst ? 2 : 1);
    return step < 0 ? 0 : Math.min(firstDelayMs * 2 ** step, maxDelayMs);
  }

  /**
   * Records an end after a run of `ranMs` and calls `restart` after the
   * backoff delay (unless stopped by then); returns the delay.
   */
  ended(ranMs: number, restart: () => void): number {
    const delay = this.nextDelay(ranMs);
    if (this.#stopped) return delay;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#stopped) restart();
    }, delay);
    return delay;
  }

  /** Whether a restart is waiting for its delay. */
  get pending(): boolean {
    return this.#timer !== null;
  }

  /** Cancels a pending restart; no more are scheduled. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
