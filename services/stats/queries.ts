/** Reads of the stats projection, shared by the HTTP routes, the RPC and the report worker. */
import type { Db } from "@runnerly/kit";
import { and, asc, between, desc, eq, gte, lt } from "drizzle-orm";
import type { MonthlyReport, PeriodTotal, PersonalBest, Summary, TrendPoint } from "./contract.ts";
import * as schema from "./db/schema.ts";
import { BEST_DISTANCES, type BestKey, currentStreak, pace } from "./totals.ts";

type Schema = typeof schema;
const { runsSeen, totals } = schema;

export async function periodTotals(
  db: Db<Schema>,
  user: string,
  period: "week" | "month",
  limit: number,
): Promise<PeriodTotal[]> {
  const rows = await db
    .select()
    .from(totals)
    .where(and(eq(totals.user, user), eq(totals.period, period)))
    .orderBy(desc(totals.key))
    .limit(limit);
  return rows.map((r) => ({
    key: r.key,
    distanceM: r.distanceM,
    durationS: r.durationS,
    runs: r.runs,
    paceSPerKm: pace(r.distanceM, r.durationS),
  }));
}

/** Weekly totals whose ISO week key lies in [from, to] (`2026-W01`…), oldest first. */
export async function weeksBetween(
  db: Db<Schema>,
  user: string,
  from: string,
  to: string,
): Promise<PeriodTotal[]> {
  const rows = await db
    .select()
    .from(totals)
    .where(and(eq(totals.user, user), eq(totals.period, "week"), between(totals.key, from, to)))
    .orderBy(asc(totals.key));
  return rows.map((r) => ({
    key: r.key,
    distanceM: r.distanceM,
    durationS: r.durationS,
    runs: r.runs,
    paceSPerKm: pace(r.distanceM, r.durationS),
  }));
}

export async function summary(db: Db<Schema>, user: string, today: string): Promise<Summary> {
  const runs = await db.select().from(runsSeen).where(eq(runsSeen.user, user));
  let distanceM = 0;
  let durationS = 0;
  let longest: (typeof runs)[number] | null = null;
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

/** The figures of one user's month, straight from the runs seen. */
export async function monthFigures(
  db: Db<Schema>,
  user: string,
  month: string,
): Promise<Omit<MonthlyReport, "reportId">> {
  const [y, m] = month.split("-").map(Number) as [number, number];
  const start = new Date(Date.UTC(y, m - 1, 1)).toISOString();
  const end = new Date(Date.UTC(y, m, 1)).toISOString();
  const runs = await db
    .select()
    .from(runsSeen)
    .where(and(eq(runsSeen.user, user), gte(runsSeen.startedAt, start), lt(runsSeen.startedAt, end)));
  const distanceM = runs.reduce((s, r) => s + r.distanceM, 0);
  const durationS = runs.reduce((s, r) => s + r.durationS, 0);
  return {
    user,
    month,
    distanceM,
    durationS,
    runs: runs.length,
    paceSPerKm: pace(distanceM, durationS),
    longestRunM: runs.reduce((mx, r) => Math.max(mx, r.distanceM), 0),
  };
}

const BEST_COLUMNS = {
  "5k": "best5k",
  "10k": "best10k",
  half: "bestHalf",
  marathon: "bestMarathon",
} as const;

/** The fastest effort at each race distance over all of a user's runs. */
export async function personalBests(db: Db<Schema>, user: string): Promise<PersonalBest[]> {
  const runs = await db.select().from(runsSeen).where(eq(runsSeen.user, user));
  const out: PersonalBest[] = [];
  for (const key of Object.keys(BEST_DISTANCES) as BestKey[]) {
    let best: { timeS: number; run: (typeof runs)[number] } | null = null;
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

/** Average pace per week for the last `weeks` weeks with runs, oldest first. */
export async function paceTrend(db: Db<Schema>, user: string, weeks: number): Promise<TrendPoint[]> {
  const rows = await periodTotals(db, user, "week", weeks);
  return rows
    .reverse()
    .map((w) => ({ week: w.key, paceSPerKm: w.paceSPerKm, distanceM: w.distanceM, runs: w.runs }));
}
