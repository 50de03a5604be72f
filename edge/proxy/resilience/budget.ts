/**
 * The retry budget: retries may add at most a fixed share of the requests a
 * service got lately, so a failing service sees at most (1 + ratio) times its
 * normal load instead of `attempts` times (a retry storm). A small floor lets
 * a quiet edge still retry the odd failure. Counts live in a sliding window of
 * one-second-ish buckets. Web standards only.
 */
import { decorrelatedJitterGenerator, ExponentialBackoff, type IBackoff } from "cockatiel";

export type RetryBudgetOptions = {
  /** Retries allowed per request in the window (0.2: at most 20 % extra load). */
  ratio: number;
  /** Retries allowed in the window whatever the traffic, so a quiet edge can still retry. */
  minRetries: number;
  /** Length of the sliding window. */
  windowMs: number;
  now?: () => number;
};

const BUCKETS = 10;

/**
 * Counts requests and retries over the last `windowMs` and allows a retry only
 * while retries stay within `max(minRetries, ratio × requests)`.
 *
 * @example
 * const budget = new RetryBudget({ ratio: 0.2, minRetries: 10, windowMs: 10_000 });
 * budget.recordRequest();
 * if (failed && budget.tryRetry()) retry();
 */
export class RetryBudget {
  readonly #ratio: number;
  readonly #minRetries: number;
  readonly #bucketMs: number;
  readonly #now: () => number;
  // Ring of buckets: [bucket index (time / bucketMs), requests, retries].
  readonly #ring: [number, number, number][] = Array.from({ length: BUCKETS }, () => [-1, 0, 0]);

  constructor(options: RetryBudgetOptions) {
    if (!(options.ratio >= 0) || !(options.minRetries >= 0) || !(options.windowMs > 0))
      throw new RangeError("retry budget: ratio and minRetries must be >= 0 and windowMs > 0");
    this.#ratio = options.ratio;
    this.#minRetries = options.minRetries;
    this.#bucketMs = options.windowMs / BUCKETS;
    this.#now = options.now ?? Date.now;
  }

  /** Counts one request (its first try). */
  recordRequest(): void {
    this.#bucket()[1] += 1;
  }

  /** True (and the retry is counted) when one more retry fits the budget. */
  tryRetry(): boolean {
    if (!this.canRetry()) return false;
    this.#bucket()[2] += 1;
    return true;
  }

  /** True when one more retry would fit, without counting it. */
  canRetry(): boolean {
    const { requests, retries } = this.totals();
    return retries + 1 <= Math.max(this.#minRetries, this.#ratio * requests);
  }

  /** Requests and retries counted in the current window. */
  totals(): { requests: number; retries: number } {
    const current = Math.floor(this.#now() / this.#bucketMs);
    let requests = 0;
    let retries = 0;
    for (const [index, req, ret] of this.#ring) {
      if (index > current - BUCKETS) {
        requests += req;
        retries += ret;
      }
    }
    return { requests, retries };
  }

  #bucket(): [number, number, number] {
    const index = Math.floor(this.#now() / this.#bucketMs);
    const bucket = this.#ring[index % BUCKETS]!;
    if (bucket[0] !== index) {
      bucket[0] = index;
      bucket[1] = 0;
      bucket[2] = 0;
    }
    return bucket;
  }
}

export type BackoffOptions = { initialMs: number; maxMs: number };

/**
 * Delays between tries: exponential with decorrelated jitter (cockatiel's
 * generator, as in Polly), so instances that failed together do not retry in
 * step. Call `next()` once per retry.
 *
 * @example
 * const delays = backoff({ initialMs: 25, maxMs: 1000 });
 * await sleep(delays.next(), signal);
 */
export function backoff(options: BackoffOptions): { next(): number } {
  const factory = new ExponentialBackoff({
    generator: decorrelatedJitterGenerator,
    initialDelay: options.initialMs,
    maxDelay: options.maxMs,
  });
  let current: IBackoff<unknown> | undefined;
  return {
    next() {
      current = current ? current.next(undefined) : factory.next();
      return Math.round(current.duration);
    },
  };
}
