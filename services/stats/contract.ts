/**
 * The stats service's public contract: response shapes, its own events, its
 * RPC methods and the tasks it works. The only file of this service other
 * services may import.
 */
import { z } from "@hono/zod-openapi";
import { defineRpc, defineTask } from "@runnerly/kit";
import { defineEvent } from "@runnerly/kit/events";

export const PeriodTotal = z
  .object({
    key: z.string().openapi({ example: "2026-W47" }),
    distanceM: z.number(),
    durationS: z.number().int(),
    runs: z.number().int(),
    paceSPerKm: z.number().nullable(),
  })
  .openapi("PeriodTotal");

export const Summary = z
  .object({
    distanceM: z.number(),
    durationS: z.number().int(),
    runs: z.number().int(),
    averagePaceSPerKm: z.number().nullable(),
    longestRun: z.object({ runId: z.string(), distanceM: z.number(), startedAt: z.string() }).nullable(),
    currentStreakDays: z.number().int(),
  })
  .openapi("Summary");

export const PersonalBest = z
  .object({
    distance: z.enum(["5k", "10k", "half", "marathon"]),
    distanceM: z.number(),
    timeS: z.number(),
    paceSPerKm: z.number(),
    runId: z.string(),
    startedAt: z.string(),
  })
  .openapi("PersonalBest");

export const TrendPoint = z
  .object({
    week: z.string(),
    paceSPerKm: z.number().nullable(),
    distanceM: z.number(),
    runs: z.number().int(),
  })
  .openapi("TrendPoint");

export const PeriodQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(520).default(12) });

export const Month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "expected YYYY-MM");

export const ReportRequest = z.strictObject({ month: Month }).openapi("ReportRequest");

export const MonthlyReport = z
  .object({
    reportId: z.string(),
    user: z.string(),
    month: Month,
    distanceM: z.number(),
    durationS: z.number().int(),
    runs: z.number().int(),
    paceSPerKm: z.number().nullable(),
    longestRunM: z.number(),
  })
  .openapi("MonthlyReport");

export const Report = z
  .object({
    reportId: z.string(),
    month: Month,
    status: z.enum(["pending", "ready"]),
    report: MonthlyReport.nullable(),
  })
  .openapi("Report");

/** A monthly report asked for earlier is ready: the answer of the request-reply callback flow. */
export const reportReady = defineEvent("stats", "report.ready", 1, MonthlyReport);

/** The figures of one user's month: a monthly report without its id. */
export const MonthFigures = MonthlyReport.omit({ reportId: true }).openapi("MonthFigures");

/**
 * `stats/report.monthly`: the figures of a user's month. Stats submits it to
 * itself when a report is asked for (POST /reports) and marks the report
 * ready in the callback.
 */
export const monthlyReport = defineTask(
  "stats",
  "report.monthly",
  1,
  z.object({ user: z.string().min(1), month: Month }),
  MonthFigures,
);

/** Longest season a report covers: a plan is at most a year, with a week of slack. */
export const MAX_SEASON_DAYS = 400;

const day = z.iso.date();
export const SeasonReportInput = z
  .object({ user: z.string().min(1), from: day, to: day })
  .refine((s) => s.from <= s.to, { message: "from must not be after to", path: ["to"] })
  .refine((s) => (Date.parse(s.to) - Date.parse(s.from)) / 86_400_000 <= MAX_SEASON_DAYS, {
    message: `a season is at most ${MAX_SEASON_DAYS} days`,
    path: ["to"],
  });

export const SeasonReport = z
  .object({
    /** First and last day (UTC, `YYYY-MM-DD`) the report covers, both included. */
    from: z.string(),
    to: z.string(),
    distanceM: z.number(),
    durationS: z.number().int(),
    runs: z.number().int(),
    paceSPerKm: z.number().nullable(),
    longestRunM: z.number(),
    /** Weeks of the season with runs, oldest first (a week at either end counts only its days inside). */
    weeks: z.array(PeriodTotal),
  })
  .openapi("SeasonReport");

/**
 * `stats/report.season`: a user's totals over a period, with a weekly
 * breakdown. Plans submits it for a plan's season and stores the answer.
 */
export const seasonReport = defineTask("stats", "report.season", 1, SeasonReportInput, SeasonReport);

/** What other services (plans) ask stats for. */
export const statsRpc = defineRpc("stats", {
  weeklyTotals: {
    input: z.object({ user: z.string(), from: z.string(), to: z.string() }),
    output: z.array(PeriodTotal),
  },
});

export type PeriodTotal = z.infer<typeof PeriodTotal>;
export type PersonalBest = z.infer<typeof PersonalBest>;
export type TrendPoint = z.infer<typeof TrendPoint>;
export type Summary = z.infer<typeof Summary>;
export type MonthlyReport = z.infer<typeof MonthlyReport>;
export type Report = z.infer<typeof Report>;
export type MonthFigures = z.infer<typeof MonthFigures>;
export type SeasonReport = z.infer<typeof SeasonReport>;
