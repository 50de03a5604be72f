/**
 * Reads of the stats projection, shared by the HTTP routes, the RPC and the
 * report tasks. Those made per request are prepared once per store
 * (`prepareStatsReads`): building a query with drizzle costs ~75 µs of CPU per
 * request on bun:sqlite, more than running it. The task handlers' reads run
 * inside the task's transaction and take the `tx`.
 */
import type { Db } from "@runnerly/kit";
import { and, asc, between, desc, eq, gte, lt, sql } from "drizzle-orm";
import type {
  MonthFigures,
  PeriodTotal,
  PersonalBest,
  SeasonReport,
  Summary,
  TrendPoint,
} from "./contract.ts";
import * as schema from "./db/schema.ts";
import { BEST_DISTANCES, type BestKey, currentStreak, isoWeek, pace } from "./totals.ts";

type Schema = typeof schema;
const { reports, runsSeen, totals } = schema;
type Seen = typeof runsSeen.$inferSelect;
type TotalRow = typeof totals.$inferSelect;

/** The per-request reads of a store, prepared once against its `store.db`. */
export function prepareStatsReads(db: Db<Schema>) {
  const latestTotals = db
    .select()
    .from(totals)
    .where(and(eq(totals.user, sql.placeholder("user")), eq(totals.period, sql.placeholder("period"))))
    .orderBy(desc(totals.key))
    .limit(sql.placeholder("limit"))
    .prepare();
  const weeksInRange = db
    .select()
    .from(totals)
    .where(
      and(
        eq(totals.user, sql.placeholder("user")),
        eq(totals.period, "week"),
        between(totals.key, sql.placeholder("from"), sql.placeholder("to")),
      ),
    )
    .orderBy(asc(totals.key))
    .prepare();
  const runsOf = db
    .select()
    .from(runsSeen)
    .where(eq(runsSeen.user, sql.placeholder("user")))
    .prepare();
  const report = db
    .select()
    .from(reports)
    .where(and(eq(reports.id, sql.placeholder("id")), eq(reports.user, sql.placeholder("user"))))
    .prepare();

  const periodTotals = async (user: string, period: "week" | "month", limit: number) =>
    (await latestTotals.all({ user, period, limit })).map(toPeriodTotal);
  return {
    /** The latest `limit` totals of a period, newest first. */
    periodTotals,
    /** Weekly totals whose ISO week key lies in [from, to] (`2026-W01`…), oldest first. */
    weeksBetween: async (user: string, from: string, to: string) =>
      (await weeksInRange.all({ user, from, to })).map(toPeriodTotal),
    /** Totals, average pace, longest run and the streak of days with runs up to `today` (`YYYY-MM-DD`). */
    summary: async (user: string, today: string) => summarise(await runsOf.all({ user }), today),
    /** The fastest effort at each race distance over all of a user's runs. */
    personalBests: async (user: string) => bestsOf(await runsOf.all({ user })),
    /** Average pace per week for the last `weeks` weeks with runs, oldest first. */
    paceTrend: async (user: string, weeks: number) => trendOf(await periodTotals(user, "week", weeks)),
    /** The user's report, or undefined when there is none or it is another user's. */
    report: async (user: string, id: string) => report.get({ user, id }),
  };
}

export type StatsReads = ReturnType<typeof prepareStatsReads>;

function toPeriodTotal(r: TotalRow): PeriodTotal {
  return {
    key: r.key,
    distanceM: r.distanceM,
    durationS: r.durationS,
    runs: r.runs,
    paceSPerKm: pace(r.distanceM, r.durationS),
  };
}

function summarise(runs: Seen[], today: string): Summary {
  let distanceM = 0;
  let durationS = 0;
  let longest: Seen | null = null;
  for (const r of runs) {
    distanceM += r.distanceM;
    durationS += r.durationS;
    if (!longest || r.distanceM > longest.distanceM) longest = r;
  }
  return {
    distanceM,
    durationS,
    runs: runs.length,
    averagePaceSPerKm: pace(distanceM, durationS),
    longestRun: longest
      ? { runId: longest.runId, distanceM: longest.distanceM, startedAt: longest.startedAt }
      : null,
    currentStreakDays: currentStreak(
      runs.map((r) => r.day),
      today,
    ),
  };
}

/**
 * The figures of one user's month, straight from the runs seen.
 *
 * @example
 * const figures = await monthFigures(tx, "ann", "2026-10"); // { runs: 2, distanceM: 20000, … }
 */
export async function monthFigures(db: Db<Schema>, user: string, month: string): Promise<MonthFigures> {
  const [y, m] = month.split("-").map(Number) as [number, number];
  const start = new Date(Date.UTC(y, m - 1, 1)).toISOString();
  const end = new Date(Date.UTC(y, m, 1)).toISOString();
  const runs = await db
    .select()
    .from(runsSeen)
    .where(and(eq(runsSeen.user, user), gte(runsSeen.startedAt, start), lt(runsSeen.startedAt, end)));
  const { weeks: _, ...sum } = sumRuns(runs);
  return { user, month, ...sum };
}

/**
 * A user's totals over the UTC days `from`…`to` (both included), with the
 * weeks that had runs, straight from the runs seen.
 *
 * @example
 * const season = await seasonFigures(tx, "ann", "2026-09-07", "2026-11-29");
 */
export async function seasonFigures(
  db: Db<Schema>,
  user: string,
  from: string,
  to: string,
): Promise<SeasonReport> {
  const runs = await db
    .select()
    .from(runsSeen)
    .where(and(eq(runsSeen.user, user), between(runsSeen.day, from, to)))
    .orderBy(asc(runsSeen.startedAt));
  return { from, to, ...sumRuns(runs) };
}

/** Totals of some runs, and the same per ISO week, oldest week first. */
function sumRuns(runs: Seen[]) {
  const byWeek = new Map<string, { distanceM: number; durationS: number; runs: number }>();
  let distanceM = 0;
  let durationS = 0;
  let longestRunM = 0;
  for (const r of runs) {
    distanceM += r.distanceM;
    durationS += r.durationS;
    longestRunM = Math.max(longestRunM, r.distanceM);
    const key = isoWeek(r.startedAt);
    const week = byWeek.get(key) ?? { distanceM: 0, durationS: 0, runs: 0 };
    byWeek.set(key, {
      distanceM: week.distanceM + r.distanceM,
      durationS: week.durationS + r.durationS,
      runs: week.runs + 1,
    });
  }
  const weeks: PeriodTotal[] = [...byWeek]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, w]) => ({ key, ...w, paceSPerKm: pace(w.distanceM, w.durationS) }));
  return {
    distanceM,
    durationS,
    runs: runs.length,
    paceSPerKm: pace(distanceM, durationS),
    longestRunM,
    weeks,
  };
}

const BEST_COLUMNS = {
  "5k": "best5k",
  "10k": "best10k",
  half: "bestHalf",
  marathon: "bestMarathon",
} as const;

function bestsOf(runs: Seen[]): PersonalBest[] {
  const out: PersonalBest[] = [];
  for (const key of Object.keys(BEST_DISTANCES) as BestKey[]) {
    let best: { timeS: number; run: Seen } | null = null;
    for (const run of runs) {
      const t = run[BEST_COLUMNS[key]];
      if (t !== null && (!best || t < best.timeS)) best = { timeS: t, run };
    }
    if (best) {
      const distanceM = BEST_DISTANCES[key];
      out.push({
        distance: key,
        distanceM,
        timeS: best.timeS,
        paceSPerKm: Math.round((best.timeS / (distanceM / 1000)) * 10) / 10,
        runId: best.run.runId,
        startedAt: best.run.startedAt,
      });
    }
  }
  return out;
}

function trendOf(weeksNewestFirst: PeriodTotal[]): TrendPoint[] {
  return weeksNewestFirst
    .reverse()
    .map((w) => ({ week: w.key, paceSPerKm: w.paceSPerKm, distanceM: w.distanceM, runs: w.runs }));
}
