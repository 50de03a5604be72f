/**
 * One circuit breaker per service (cockatiel): after `failures` failed tries
 * in a row (no responders, timeouts, 5xx; never 4xx) while no instance of the
 * service is left healthy (proxy/balance/) the circuit opens and
 * requests fail fast; after `halfOpenAfterMs` one probe goes through, and its
 * success closes the circuit again. Web standards only.
 */
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhenResult,
  TaskCancelledError,
} from "cockatiel";

export type CircuitStateName = "closed" | "open" | "half-open";

export type BreakerOptions = {
  /** Consecutive failed tries that open a service's circuit. */
  failures: number;
  /** How long a circuit stays open before one probe may go through. */
  halfOpenAfterMs: number;
  /** Told of every state change (metrics, logs). */
  onChange?: (service: string, state: CircuitStateName) => void;
};

const NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.Open]: "open",
  [CircuitState.HalfOpen]: "half-open",
  [CircuitState.Isolated]: "open",
} as const;

type Circuit = { policy: CircuitBreakerPolicy; openedAt: number };

/**
 * The breakers of every service the edge has called, created on first use.
 * `isFailure` classifies what a try returned (tries never throw for a
 * service's fault; they return an outcome) for its service: the edge counts a
 * failed try only when no instance of the service is left healthy.
 *
 * @example
 * const breakers = new Breakers({ failures: 5, halfOpenAfterMs: 5000 }, (o) => o.kind !== "reply");
 * const outcome = await breakers.run("runs", () => send(), signal); // throws when open: isOpenCircuit(err)
 */
export class Breakers<T> {
  readonly #circuits = new Map<string, Circuit>();

  constructor(
    private readonly options: BreakerOptions,
    private readonly isFailure: (outcome: T, service: string) => boolean,
  ) {
    if (!Number.isInteger(options.failures) || options.failures < 1)
      throw new RangeError("breaker failures must be a positive integer");
  }

  /** Runs one try through the service's circuit; rejects with BrokenCircuitError when it is open. */
  run(service: string, attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.#circuit(service).policy.execute(attempt, signal);
  }

  /**
   * Closes an open circuit at once, e.g. when a new instance of the service
   * registers: new evidence beats waiting out `halfOpenAfterMs`. If the new
   * instance fails too, `failures` failed tries open the circuit again.
   */
  reset(service: string): void {
    const circuit = this.#circuits.get(service);
    if (!circuit || circuit.policy.state === CircuitState.Closed) return;
    this.#circuits.delete(service);
    this.options.onChange?.(service, "closed");
  }

  state(service: string): CircuitStateName {
    const circuit = this.#circuits.get(service);
    return circuit ? NAMES[circuit.policy.state] : "closed";
  }

  /** Whole seconds until an open circuit lets a probe through (at least 1). */
  retryAfterSeconds(service: string, now = Date.now()): number {
    const circuit = this.#circuits.get(service);
    if (!circuit) return 1;
    const left = circuit.openedAt + this.options.halfOpenAfterMs - now;
    return Math.max(1, Math.ceil(left / 1000));
  }

  #circuit(service: string): Circuit {
    const existing = this.#circuits.get(service);
    if (existing) return existing;
    const policy = circuitBreaker(
      handleWhenResult((r) => this.isFailure(r as T, service)),
      {
        halfOpenAfter: this.options.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(this.options.failures),
      },
    );
    const circuit: Circuit = { policy, openedAt: 0 };
    policy.onBreak(() => {
      circuit.openedAt = Date.now();
    });
    // A circuit replaced by reset() may still settle a try in flight: only the current one reports.
    policy.onStateChange((s) => {
      if (this.#circuits.get(service) === circuit) this.options.onChange?.(service, NAMES[s]);
    });
    this.#circuits.set(service, circuit);
    return circuit;
  }
}

/** True for the errors a circuit raises instead of running a try (open, or the wait for a probe was cancelled). */
export function isOpenCircuit(err: unknown): boolean {
  return err instanceof BrokenCircuitError;
}

/** True when cockatiel gave up on a try because its signal aborted (the request's deadline passed). */
export function isCancelled(err: unknown): boolean {
  return err instanceof TaskCancelledError;
}
