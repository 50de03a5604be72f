/**
 * The edge's resilience policies wired together: the balancer that picks the
 * instance of every try and ejects outliers, one circuit breaker per service
 * (counting a failed try only when no instance is left healthy), and the
 * retrier whose every try goes through it, all reporting to the metrics and
 * the log. Web standards only.
 */
import type { Logger } from "@runnerly/kit/web";
import type { EDGE_DEFAULTS } from "../../defaults.ts";
import type { EdgeMetrics } from "../../ops/metrics.ts";
import { isServiceFailure, type Outcome } from "../attempt.ts";
import { Balancer, type HedgeSettings, type OutlierSettings } from "../balance/balancer.ts";
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
  outlier: OutlierSettings;
  hedge: HedgeSettings;
  metrics: EdgeMetrics;
  logger: Logger;
  /** Told when a try found no responders (discovery then checks whether the service is gone). */
  onNoResponders(service: string): void;
  /** Told when a try found nobody on one instance's subject (discovery then checks that instance). */
  onInstanceGone(service: string, id: string): void;
};

export type Policies = { balancer: Balancer; breakers: Breakers<Outcome>; retrier: Retrier };

/**
 * Builds the balancer, the breakers and the retrier. A failure for a circuit
 * is what says the service is unwell: no responders, a timeout, a 5xx (never
 * a 4xx), while every instance is failing or ejected.
 *
 * @example
 * const { balancer, breakers, retrier } = createPolicies({ retry, breaker, outlier, hedge, metrics, logger, … });
 */
export function createPolicies(options: PoliciesOptions): Policies {
  const { retry, metrics, logger } = options;
  const balancer = new Balancer(
    { outlier: options.outlier, hedge: options.hedge },
    {
      onEject(service, id, ms, reason) {
        metrics.ejection(service, reason);
        logger.warn({ service, id, ms, reason }, "instance ejected");
      },
      onInstanceGone: options.onInstanceGone,
    },
  );
  const breakers = new Breakers<Outcome>(
    {
      ...options.breaker,
      onChange(service, state) {
        metrics.circuit(service, state);
        logger[state === "open" ? "warn" : "info"]({ service, circuit: state }, "circuit changed");
      },
    },
    (outcome, service) => isServiceFailure(outcome) && balancer.allFailing(service),
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
    onHedge: (service) => metrics.hedge(service),
  });
  return { balancer, breakers, retrier };
}
