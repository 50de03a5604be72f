/** The plans service's public contract. The only file of this service other services may import. */
import { z } from "@hono/zod-openapi";
import { SeasonReport } from "@runnerly/stats/contract.ts";

/** Longest plan: a year of weeks. */
export const MAX_PLAN_DAYS = 366;

export const PlanWeek = z
  .object({
    week: z.string().openapi({ example: "2026-W48" }),
    startsOn: z.string().openapi({ example: "2026-11-23" }),
    distanceM: z.number(),
    longRunM: z.number(),
    keySession: z.string(),
    goalPaceSPerKm: z.number(),
    kind: z.enum(["build", "cutback", "taper", "race"]),
  })
  .openapi("PlanWeek");

const raceDate = z.iso.date().openapi({ description: "Race day, YYYY-MM-DD", example: "2027-04-25" });
const raceDistanceM = z.number().min(1000).max(250_000).openapi({ example: 42_195 });
const goalTimeS = z
  .number()
  .int()
  .positive()
  .max(7 * 24 * 3600)
  .openapi({ example: 12_600 });
const name = z.string().trim().min(1).max(100).openapi({ example: "Spring marathon" });

export const PlanInput = z.strictObject({ name, raceDate, raceDistanceM, goalTimeS }).openapi("PlanInput");
export const PlanPatch = z
  .strictObject({ name: name.optional(), goalTimeS: goalTimeS.optional() })
  .refine((p) => Object.keys(p).length > 0, { message: "at least one field to change is required" })
  .openapi("PlanPatch");

export const WeekProgress = z
  .object({ week: z.string(), plannedM: z.number(), doneM: z.number(), runs: z.number().int() })
  .openapi("WeekProgress");

export const Progress = z
  .object({
    weeks: z.array(WeekProgress),
    /** Done ÷ planned over the weeks that have started, 0–1+. */
    completion: z.number().nullable(),
  })
  .openapi("Progress");

export const Plan = z
  .object({
    id: z.string(),
    name: z.string(),
    raceDate: z.string(),
    raceDistanceM: z.number(),
    goalTimeS: z.number(),
    goalPaceSPerKm: z.number(),
    weeks: z.array(PlanWeek),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Plan");

/** A plan with its progress; `degraded` when stats could not be asked in time (then `progress` is null). */
export const PlanWithProgress = Plan.extend({ progress: Progress.nullable(), degraded: z.boolean() }).openapi(
  "PlanWithProgress",
);

export const PlanId = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });

/**
 * A plan's season report: its runs from the first week of the plan to race
 * day, as stats computed them (task `stats/report.season`). Pending until
 * stats answers; failed when it could not within the report's deadline.
 */
export const PlanReport = z
  .object({
    planId: z.string(),
    status: z.enum(["pending", "ready", "failed"]),
    requestedAt: z.string(),
    finishedAt: z.string().nullable(),
    report: SeasonReport.nullable(),
    /** Why it failed, for people. */
    error: z.string().nullable(),
  })
  .openapi("PlanReport");

export type PlanWeek = z.infer<typeof PlanWeek>;
export type Plan = z.infer<typeof Plan>;
export type Progress = z.infer<typeof Progress>;
export type PlanWithProgress = z.infer<typeof PlanWithProgress>;
export type PlanReport = z.infer<typeof PlanReport>;
