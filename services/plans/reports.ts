/**
 * Season reports of a plan, a task across services (docs/protocol.md §10):
 * plans stores a pending report and submits `stats/report.season` in one
 * transaction, stats works it from its own figures, and plans' callback
 * `seasonReportReady` stores what came back in plans' own table. A plan whose
 * report is still pending is not asked for twice; one that ended may be asked
 * for again (more runs since).
 */
import { type Db, defineCallback, type TaskClient } from "@runnerly/kit";
import { seasonReport } from "@runnerly/stats/contract.ts";
import { eq } from "drizzle-orm";
import type { PlanReport, PlanWeek } from "./contract.ts";
import * as schema from "./db/schema.ts";

type Schema = typeof schema;
const { planReports } = schema;

/** The callback a season report's task is submitted with. */
export const SEASON_REPORT_READY = "seasonReportReady";

/** How long a report waits for stats before it fails (then the runner may ask again). */
export const REPORT_DEADLINE_MS = 120_000;

/**
 * The plan's pending report, or a new one with its task submitted in `tx`.
 * The season runs from the plan's first week to race day.
 *
 * @example
 * const row = await store.write(async (tx) => requestSeasonReport(tx, tasks, await findOwned(tx, owner, id)));
 */
export async function requestSeasonReport(
  tx: Db<Schema>,
  tasks: TaskClient,
  plan: schema.PlanRow,
): Promise<schema.PlanReportRow> {
  const current = await reportIn(tx, plan.id);
  if (current?.status === "pending") return current;
  const weeks = JSON.parse(plan.weeks) as PlanWeek[];
  const from = weeks[0]?.startsOn ?? plan.createdAt.slice(0, 10);
  const { id: taskId } = await tasks.submit(
    tx,
    seasonReport,
    { user: plan.owner, from, to: plan.raceDate },
    { callback: SEASON_REPORT_READY, deadlineMs: REPORT_DEADLINE_MS },
  );
  const row = {
    planId: plan.id,
    owner: plan.owner,
    taskId,
    status: "pending" as const,
    body: null,
    error: null,
    requestedAt: new Date().toISOString(),
    finishedAt: null,
  };
  await tx.insert(planReports).values(row).onConflictDoUpdate({ target: planReports.planId, set: row }).run();
  return row;
}

/** The report of a plan as a transaction sees it, or undefined. */
export function reportIn(tx: Db<Schema>, planId: string) {
  return tx.select().from(planReports).where(eq(planReports.planId, planId)).get();
}

/**
 * `seasonReportReady`: stats answered (or the deadline passed). Stored only
 * on the row still waiting for this task: a plan deleted or asked again since
 * ignores it.
 *
 * @example
 * callbacks: () => seasonReportCallbacks()
 */
export function seasonReportCallbacks() {
  return {
    [SEASON_REPORT_READY]: defineCallback<Schema, typeof seasonReport>(seasonReport, async (tx, outcome) => {
      const done = outcome.status === "done" && outcome.output;
      await tx
        .update(planReports)
        .set({
          status: done ? "ready" : "failed",
          body: done ? JSON.stringify(outcome.output) : null,
          error: done ? null : failureText(outcome.status, outcome.error),
          finishedAt: new Date().toISOString(),
        })
        .where(eq(planReports.taskId, outcome.id))
        .run();
    }),
  };
}

function failureText(status: string, error: string | undefined): string {
  return status === "deadline"
    ? "The statistics did not answer in time. Ask for the report again."
    : `The statistics could not compute the report (${error ?? "no reason given"}).`;
}

/** A stored report as the API shows it. */
export function toPlanReport(row: schema.PlanReportRow): PlanReport {
  return {
    planId: row.planId,
    status: row.status,
    requestedAt: row.requestedAt,
    finishedAt: row.finishedAt,
    report: row.body ? JSON.parse(row.body) : null,
    error: row.error,
  };
}
