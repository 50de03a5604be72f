/**
 * The edge's resilience policies wired together: one circuit breaker per
 * service, and the retrier whose every try goes through it, both reporting
 * to the metrics and the log. Web standards only.
 */
import type { Logger } from "@runnerly/kit/web";
import type { EDGE_DEFAULTS } from "../../defaults.ts";
import type { EdgeMetrics } from "../../ops/metrics.ts";
import { isServiceFailure, type Outcome } from "../attempt.ts";
import { Breakers } from "./breaker.ts";
import { Retrier } from "./retry.ts";

type Numbers<T> = { -readonly [K in keyof T]: number };

/** Retry settings as configured (see EDGE_DEFAULTS.retry). */
export type RetrySettings = Numbers<typeof EDGE_DEFAULTS.retry>;
/** Circuit breaker settings as configured (see EDGE_DEFAULTS.breaker). */
export type BreakerSettings = Numbers<typeof EDGE_DEFAULTS.breaker>;

export type PoliciesOptions = {
  retry: RetrySettings;
  breaker: BreakerSettings;
  metrics: EdgeMetrics;
  logger: Logger;
  /** Told when a try found no responders (discovery then checks whether the service is gone). */
  onNoResponders(service: string): void;
};

/**
 * Builds the breakers and the retrier. A failure for a circuit is what says
 * the service is unwell: no responders, a timeout, a 5xx (never a 4xx).
 *
 * @example
 * const { breakers, retrier } = createPolicies({ retry, breaker, metrics, logger, onNoResponders });
 */
export function createPolicies(options: PoliciesOptions): { breakers: Breakers<Outcome>; retrier: Retrier } {
  const { retry, metrics, logger } = options;
  const breakers = new Breakers<Outcome>(
    {
      ...options.breaker,
      onChange(service, state) {
        metrics.circuit(service, state);
        logger[state === "open" ? "warn" : "info"]({ service, circuit: state }, "circuit changed");
      },
    },
    isServiceFailure,
  );
  const budget = {
    ratio: retry.budgetRatio,
    minRetries: retry.budgetMinRetries,
    windowMs: retry.budgetWindowMs,
  };
  const retrier = new Retrier({ ...retry, budget }, breakers, {
    onAttempt(service, outcome) {
      const label = outcome.kind === "reply" ? `${Math.floor(outcome.status / 100)}xx` : outcome.kind;
      metrics.attempt(service, label);
      if (outcome.kind === "no-responders") options.onNoResponders(service);
    },
    onRetry: (service, reason) => metrics.retry(service, reason),
    onBudgetExhausted: (service) => metrics.retryDenied(service),
  });
  return { breakers, retrier };
}
