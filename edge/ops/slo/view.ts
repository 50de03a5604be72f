/**
 * The measured service levels as the dashboard shows them. Web standards only.
 */
import type { ServiceLevels } from "@runnerly/kit/web";
import type { SloTracker } from "./tracker.ts";

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
