/**
 * The stats service's public contract: response shapes, its own events, and
 * its RPC methods. The only file of this service other services may import.
 */
import { z } from "@hono/zod-openapi";
import { defineRpc } from "@runnerly/kit";
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
