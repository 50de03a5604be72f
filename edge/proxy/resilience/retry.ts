/**
 * Failover: a request whose try found no instance, timed out, or got a
 * 502/503/504 is tried again (on another instance, proxy/balance/) when that
 * is safe, within its deadline and its service's retry budget, after a
 * jittered backoff. A try of such a request that has not answered within the
 * hedge delay gets a second one beside it (a hedge, counted against the same
 * budget and attempts); the first good answer wins and the other is left to
 * finish on its own. Each try goes through the service's circuit breaker.
 * Safe means: the request is idempotent, or the try reached nobody (no
 * responders), so a POST without an Idempotency-Key or a PATCH is never sent
 * twice, nor hedged. Web standards only.
 */
import type { Outcome } from "../attempt.ts";
import { type Breakers, isCancelled, isOpenCircuit } from "./breaker.ts";
import { backoff, RetryBudget, type RetryBudgetOptions } from "./budget.ts";
import { type Deadline, MIN_USEFUL_TRY_MS, perTryTimeout, sleep } from "./deadline.ts";

export type RetryOptions = {
  /** Tries in all, the first included (1 = never retry). */
  maxAttempts: number;
  /** The least a try that may be retried waits (see perTryTimeout). */
  perTryMinMs: number;
  /** First backoff delay and the cap on any delay. */
  backoffMs: number;
  backoffMaxMs: number;
  budget: RetryBudgetOptions;
};

export type RetryHooks = {
  /** Every try made, with its outcome. */
  onAttempt?(service: string, outcome: Outcome): void;
  /** A retry is about to be made after a try that ended in `reason`. */
  onRetry?(service: string, reason: string): void;
  /** A retry was wanted but the budget had none left. */
  onBudgetExhausted?(service: string): void;
  /** A hedge went out beside a try that had not answered within `afterMs`. */
  onHedge?(service: string, afterMs: number): void;
};

/** One request to run: which service, whether it may be sent twice, its deadline, and how to send one try. */
export type Call = {
  service: string;
  idempotent: boolean;
  deadline: Deadline;
  /** One try; it must settle within `timeoutMs` (a NATS request's own timeout does). */
  send(timeoutMs: number): Promise<Outcome>;
  /**
   * Hedging, for an idempotent request: after `delayMs` without an answer a
   * second try goes out, if `possible()` (another instance may take it).
   */
  hedge?: { delayMs: number; possible(): boolean } | null;
};

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
const RETRYABLE_STATUS = new Set([502, 503, 504]);

/**
 * True when sending the request twice has the effect of sending it once:
 * GET, HEAD, OPTIONS, PUT, DELETE (RFC 9110 §9.2.2), and a POST carrying an
 * `Idempotency-Key` (the kit records its response with its effects and
 * replays it).
 *
 * @example
 * isIdempotent("POST", new Headers({ "idempotency-key": "k1" })); // true
 */
export function isIdempotent(method: string, headers: Headers): boolean {
  return IDEMPOTENT.has(method) || (method === "POST" && headers.has("idempotency-key"));
}

/** The reason to try again after `o`, or null when another try would be wrong or useless. */
export function retryReason(o: Outcome, idempotent: boolean): string | null {
  if (o.kind === "no-responders") return "no-responders"; // it reached nobody: safe for any method
  if (!idempotent) return null;
  if (o.kind === "timeout") return "timeout";
  if (o.kind === "reply" && RETRYABLE_STATUS.has(o.status)) return String(o.status);
  return null;
}

/** Thrown into the breaker instead of sending when the request is already over. */
class RequestOver extends Error {}

/**
 * Runs calls with retries, one retry budget per service.
 *
 * @example
 * const retrier = new Retrier(options, breakers, hooks);
 * const outcome = await retrier.call({ service: "runs", idempotent: true, deadline, send });
 */
export class Retrier {
  readonly #budgets = new Map<string, RetryBudget>();

  constructor(
    private readonly options: RetryOptions,
    private readonly breakers: Breakers<Outcome>,
    private readonly hooks: RetryHooks = {},
  ) {}

  /**
   * The outcome of the last try, or `deadline` once the deadline passes. With
   * the circuit closed no race is needed: each try's own timeout ends by the
   * deadline. Otherwise a half-open circuit may hold a try back, so the call
   * also ends the moment the deadline passes, whatever is in flight.
   */
  call(call: Call): Promise<Outcome> {
    const tries = this.#tries(call);
    if (this.breakers.state(call.service) === "closed") return tries;
    const expired = call.deadline.expired().then((): Outcome => ({ kind: "deadline" }));
    return Promise.race([tries, expired]);
  }

  async #tries(call: Call): Promise<Outcome> {
    const { service, idempotent, deadline } = call;
    const budget = this.#budget(service);
    budget.recordRequest();
    // Made on the first retry: most requests have none.
    let delays: ReturnType<typeof backoff> | null = null;
    for (let n = 1; ; n++) {
      // A try that cannot be retried gets all the time left.
      const last = n >= this.options.maxAttempts || !idempotent || !budget.canRetry();
      const timeoutMs = perTryTimeout(deadline.remaining(), this.options.perTryMinMs, last);
      let outcome: Outcome;
      if (last || !call.hedge) outcome = await this.#try(call, timeoutMs);
      else {
        const hedged = await this.#hedged(call, call.hedge, timeoutMs, budget, n);
        outcome = hedged.outcome;
        n = hedged.n;
      }
      const reason = retryReason(outcome, idempotent);
      if (reason === null || n >= this.options.maxAttempts) return outcome;
      delays ??= backoff({ initialMs: this.options.backoffMs, maxMs: this.options.backoffMaxMs });
      const delay = delays.next();
      if (deadline.over || deadline.remaining() - delay < MIN_USEFUL_TRY_MS) return outcome;
      if (!budget.tryRetry()) {
        this.hooks.onBudgetExhausted?.(service);
        return outcome;
      }
      this.hooks.onRetry?.(service, reason);
      if (!(await sleep(delay, deadline.signal))) return { kind: "deadline" };
    }
  }

  /**
   * One try, and a hedge beside it if it has not answered within the delay
   * (and the budget, the attempts and another instance allow one). Returns
   * the first outcome that needs no retry, else the last to come, and the
   * attempt count so far.
   */
  async #hedged(
    call: Call,
    hedge: NonNullable<Call["hedge"]>,
    timeoutMs: number,
    budget: RetryBudget,
    n: number,
  ): Promise<{ outcome: Outcome; n: number }> {
    const first = this.#try(call, timeoutMs);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = await Promise.race([
      first,
      new Promise<null>((resolve) => {
        timer = setTimeout(resolve, hedge.delayMs, null);
      }),
    ]);
    if (waited !== null) {
      clearTimeout(timer);
      return { outcome: waited, n };
    }
    const { deadline, service } = call;
    if (deadline.remaining() < MIN_USEFUL_TRY_MS || !hedge.possible() || !budget.tryRetry())
      return { outcome: await first, n };
    this.hooks.onHedge?.(service, hedge.delayMs);
    const last = n + 1 >= this.options.maxAttempts || !budget.canRetry();
    const second = this.#try(call, perTryTimeout(deadline.remaining(), this.options.perTryMinMs, last));
    return { outcome: await firstFinal(first, second), n: n + 1 };
  }

  async #try({ service, deadline, send }: Call, timeoutMs: number): Promise<Outcome> {
    let outcome: Outcome;
    try {
      outcome = await this.breakers.run(
        service,
        // A probe wait in a half-open circuit can outlast the deadline: never send after it.
        () => {
          const left = Math.min(timeoutMs, deadline.remaining());
          return deadline.over || left <= 0 ? Promise.reject(new RequestOver()) : send(left);
        },
        // Only a circuit that is not closed waits on anything the signal could cut short.
        this.breakers.state(service) === "closed" ? undefined : deadline.signal,
      );
    } catch (err) {
      if (isOpenCircuit(err)) return { kind: "open" };
      if (err instanceof RequestOver || isCancelled(err)) return { kind: "deadline" };
      throw err;
    }
    this.hooks.onAttempt?.(service, outcome);
    return outcome;
  }

  #budget(service: string): RetryBudget {
    let budget = this.#budgets.get(service);
    if (!budget) {
      budget = new RetryBudget(this.options.budget);
      this.#budgets.set(service, budget);
    }
    return budget;
  }
}

/**
 * The first of two tries' outcomes that needs no retry (an answer), else the
 * later of the two. The other try is left to finish: its outcome still
 * reaches its instance's figures and the circuit.
 */
function firstFinal(a: Promise<Outcome>, b: Promise<Outcome>): Promise<Outcome> {
  return new Promise((resolve) => {
    let left = 2;
    const settle = (o: Outcome) => {
      left -= 1;
      if (left === 0 || retryReason(o, true) === null) resolve(o);
    };
    const failed = (err: unknown) => settle({ kind: "error", err });
    a.then(settle, failed);
    b.then(settle, failed);
  });
}
