/**
 * Progress of a plan: planned against done per week, done coming from stats by
 * RPC under a deadline. When stats can't answer in time the plan is still
 * returned, without progress and marked degraded.
 */
import { type Logger, MeshError, type MeshMeta, type RpcClient } from "@runnerly/kit";
import type { statsRpc } from "@runnerly/stats/contract.ts";
import type { PlanWeek, Progress } from "./contract.ts";
import { isoWeekKey } from "./schedule.ts";

export type ProgressResult = { progress: Progress | null; degraded: boolean };

/** Compares the schedule with the weekly totals stats reports for the owner. */
export async function fetchProgress(
  stats: RpcClient<(typeof statsRpc)["methods"]>,
  owner: string,
  weeks: PlanWeek[],
  meta: Partial<MeshMeta>,
  timeoutMs: number,
  logger: Logger,
): Promise<ProgressResult> {
  const first = weeks[0];
  const last = weeks.at(-1);
  if (!first || !last) return { progress: { weeks: [], completion: null }, degraded: false };
  try {
    const done = await stats.weeklyTotals(
      { user: owner, from: first.week, to: last.week },
      { meta, timeoutMs },
    );
    return { progress: compare(weeks, done, isoWeekKey(new Date())), degraded: false };
  } catch (err) {
    if (err instanceof MeshError && err.status < 500) throw err;
    logger.warn({ err: String(err) }, "stats unavailable; answering without progress");
    return { progress: null, degraded: true };
  }
}

/** Planned vs done per week; completion over the weeks up to the current one. */
export function compare(
  weeks: PlanWeek[],
  done: { key: string; distanceM: number; runs: number }[],
  currentWeek: string,
): Progress {
  const byWeek = new Map(done.map((d) => [d.key, d]));
  const rows = weeks.map((w) => ({
    week: w.week,
    plannedM: w.distanceM,
    doneM: byWeek.get(w.week)?.distanceM ?? 0,
    runs: byWeek.get(w.week)?.runs ?? 0,
  }));
  const started = rows.filter((r) => r.week <= currentWeek);
  const planned = started.reduce((s, r) => s + r.plannedM, 0);
  const doneM = started.reduce((s, r) => s + r.doneM, 0);
  return { weeks: rows, completion: planned > 0 ? Math.round((doneM / planned) * 1000) / 1000 : null };
}
