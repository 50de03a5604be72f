/**
 * The measured service levels as the dashboard shows them. Web standards only.
 */
import type { ServiceReport } from "./tracker.ts";

/**
 * One service's levels as the dashboard shows them: the shortest window
 * against the declared availability; null before it had a request.
 *
 * @example
 * sloView(slo.report(levelsOf, "runs")[0]); // { window: "5m", objective: 99.9, availability: 100, … }
 */
export function sloView(report: ServiceReport | undefined) {
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
