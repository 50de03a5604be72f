/**
 * Feeds the measured service levels from the edge's own request metrics: a
 * wrapper around any `EdgeMetrics` that also records each answered request
 * of a service (not the edge's own routes, not unrouted paths). Web standards only.
 */
import type { ServiceLevels } from "@runnerly/kit/web";
import type { EdgeMetrics } from "../metrics.ts";
import type { SloTracker } from "./tracker.ts";

/**
 * `metrics`, with every service request also counted by `slo`.
 *
 * @example
 * const metrics = measuringLevels(createMemoryMetrics(), new SloTracker(), (s) => table.service(s)?.levels ?? {});
 */
export function measuringLevels(
  metrics: EdgeMetrics,
  slo: SloTracker,
  levelsOf: (service: string) => ServiceLevels,
): EdgeMetrics {
  return new Proxy(metrics, {
    get(target, key, receiver) {
      if (key !== "request") return Reflect.get(target, key, receiver);
      return (service: string, method: string, status: number, seconds: number) => {
        target.request(service, method, status, seconds);
        if (service !== "edge" && service !== "none") slo.record(service, status, seconds, levelsOf(service));
      };
    },
  });
}

/**
 * One service's levels as the dashboard shows them: the shortest window
 * against the declared availability; null before it had a request.
 *
 * @example
 * sloView(slo, "runs", levelsOf); // { window: "5m", objective: 99.9, availability: 100, … }
 */
export function sloView(slo: SloTracker, service: string, levelsOf: (service: string) => ServiceLevels) {
  const report = slo.report(levelsOf, service)[0];
  const w = report?.windows[0];
  if (!report || !w) return null;
  return {
    window: w.window,
    objective: report.objectives.availability ?? null,
    availability: w.availability,
    budgetRemaining: w.budgetRemaining,
    burnRate: w.burnRate,
    burning: report.burning,
  };
}
