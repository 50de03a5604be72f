/**
 * HTTP routes of the plans service (relative to `/api/plans`). Each plan
 * belongs to its creator; another runner's plan is a 404. A plan's season
 * report is asked for with a POST answered 202, and followed on its status
 * resource (JSON, or server-sent events) until stats has sent it.
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  acceptsEventStream,
  createRouter,
  type Db,
  jsonBody,
  jsonResponse,
  type Logger,
  MeshError,
  problemResponses,
  type RpcClient,
  requireUser,
  type Store,
  statusResponse,
  type TaskClient,
  taskStatusResponse,
} from "@runnerly/kit";
import type { statsRpc } from "@runnerly/stats/contract.ts";
import { eq } from "drizzle-orm";
import {
  MAX_PLAN_DAYS,
  type Plan,
  PlanId,
  PlanInput,
  PlanPatch,
  PlanReport,
  type PlanWeek,
  PlanWithProgress,
} from "./contract.ts";
import * as schema from "./db/schema.ts";
import { fetchProgress } from "./progress.ts";
import { ownedPlanIn, preparePlanReads } from "./queries.ts";
import { requestSeasonReport, toPlanReport } from "./reports.ts";
import { buildSchedule } from "./schedule.ts";

type Schema = typeof schema;
const { planReports, plans } = schema;

const errors = problemResponses({
  400: "Invalid input",
  401: "No authenticated caller",
  404: "No such plan for this caller",
});

export const createPlan = createRoute({
  method: "post",
  path: "/plans",
  summary: "Create a training plan toward a race",
  request: { body: jsonBody(PlanInput) },
  responses: { 201: jsonResponse("The plan with its schedule", PlanWithProgress), ...errors },
});
export const listPlans = createRoute({
  method: "get",
  path: "/plans",
  summary: "The caller's plans, newest first (without progress)",
  responses: {
    200: jsonResponse(
      "Plans",
      z.object({ items: z.array(PlanWithProgress.omit({ progress: true, degraded: true })) }),
    ),
    ...errors,
  },
});
export const getPlan = createRoute({
  method: "get",
  path: "/plans/{id}",
  summary: "A plan with its progress (degraded: true and progress: null when stats is unavailable)",
  request: { params: PlanId },
  responses: { 200: jsonResponse("The plan", PlanWithProgress), ...errors },
});
export const updatePlan = createRoute({
  method: "patch",
  path: "/plans/{id}",
  summary: "Rename a plan or change its goal time (the schedule is regenerated)",
  request: { params: PlanId, body: jsonBody(PlanPatch) },
  responses: { 200: jsonResponse("The plan", PlanWithProgress), ...errors },
});
export const deletePlan = createRoute({
  method: "delete",
  path: "/plans/{id}",
  summary: "Delete a plan",
  request: { params: PlanId },
  responses: { 204: { description: "Deleted" }, ...errors },
});

export const requestReport = createRoute({
  method: "post",
  path: "/plans/{id}/report",
  summary:
    "Ask stats for the plan's season report (its runs from the first week to race day); follow the Location until it is ready",
  request: { params: PlanId },
  responses: {
    202: jsonResponse("Asked (or already asked and still pending); the Location is its status", PlanReport),
    ...errors,
  },
});
export const getReport = createRoute({
  method: "get",
  path: "/plans/{id}/report",
  summary:
    "The plan's season report: pending, ready or failed (with Accept: text/event-stream, a `status` event per change until it ends)",
  request: { params: PlanId },
  responses: {
    200: statusResponse("The report", PlanReport, "PlanReport"),
    ...errors,
  },
});

function toPlan(row: schema.PlanRow): Plan {
  return {
    id: row.id,
    name: row.name,
    raceDate: row.raceDate,
    raceDistanceM: row.raceDistanceM,
    goalTimeS: row.goalTimeS,
    goalPaceSPerKm: Math.round((row.goalTimeS / (row.raceDistanceM / 1000)) * 10) / 10,
    weeks: JSON.parse(row.weeks) as PlanWeek[],
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function found<T>(row: T | undefined, id: string): T {
  if (!row) throw new MeshError(404, { detail: `plan ${id} not found` });
  return row;
}

/** The caller's plan inside a write transaction; 404 for anyone else's. */
async function findOwned(tx: Db<Schema>, owner: string, id: string) {
  return found(await ownedPlanIn(tx, owner, id), id);
}

function checkRaceDate(raceDate: string): Date {
  const race = new Date(`${raceDate}T00:00:00Z`);
  const today = new Date(new Date().toISOString().slice(0, 10));
  const days = (race.getTime() - today.getTime()) / 86_400_000;
  if (days < 1 || days > MAX_PLAN_DAYS) {
    const message = `must be between tomorrow and ${MAX_PLAN_DAYS} days from today`;
    throw new MeshError(400, {
      detail: `body.raceDate ${message}`,
      errors: [{ path: "body.raceDate", message }],
    });
  }
  return race;
}

export type PlansDeps = {
  store: Store<Schema>;
  stats: RpcClient<(typeof statsRpc)["methods"]>;
  progressTimeoutMs: number;
  logger: Logger;
  tasks: TaskClient;
};

export function plansRoutes({ store, stats, progressTimeoutMs, logger, tasks }: PlansDeps) {
  const app = createRouter();
  const reads = preparePlanReads(store.db);

  app.openapi(createPlan, async (c) => {
    const owner = requireUser(c);
    const input = c.req.valid("json");
    const race = checkRaceDate(input.raceDate);
    const now = new Date().toISOString();
    const weeks = buildSchedule({
      today: new Date(),
      raceDate: race,
      raceDistanceM: input.raceDistanceM,
      goalTimeS: input.goalTimeS,
    });
    const row = {
      id: crypto.randomUUID(),
      owner,
      ...input,
      weeks: JSON.stringify(weeks),
      createdAt: now,
      updatedAt: now,
    };
    await store.write((tx) => tx.insert(plans).values(row).run());
    const progress = await fetchProgress(stats, owner, weeks, c.get("mesh"), progressTimeoutMs, c.get("log"));
    c.header("location", `/api/plans/plans/${row.id}`);
    return c.json({ ...toPlan(row), ...progress }, 201);
  });

  app.openapi(listPlans, async (c) => {
    const owner = requireUser(c);
    const rows = await reads.latest(owner);
    return c.json({ items: rows.map(toPlan) }, 200);
  });

  app.openapi(getPlan, async (c) => {
    const owner = requireUser(c);
    const { id } = c.req.valid("param");
    const plan = toPlan(found(await reads.ownedPlan(owner, id), id));
    const progress = await fetchProgress(
      stats,
      owner,
      plan.weeks,
      c.get("mesh"),
      progressTimeoutMs,
      c.get("log"),
    );
    return c.json({ ...plan, ...progress }, 200);
  });

  app.openapi(updatePlan, async (c) => {
    const owner = requireUser(c);
    const { id } = c.req.valid("param");
    const patch = c.req.valid("json");
    const row = await store.write(async (tx) => {
      const current = await findOwned(tx, owner, id);
      const goalTimeS = patch.goalTimeS ?? current.goalTimeS;
      const weeks = buildSchedule({
        today: new Date(),
        raceDate: new Date(`${current.raceDate}T00:00:00Z`),
        raceDistanceM: current.raceDistanceM,
        goalTimeS,
      });
      return tx
        .update(plans)
        .set({
          name: patch.name ?? current.name,
          goalTimeS,
          weeks: JSON.stringify(weeks),
          updatedAt: new Date().toISOString(),
        })
        .where(eq(plans.id, id))
        .returning()
        .get();
    });
    if (!row) throw new MeshError(404, { detail: `plan ${id} not found` });
    const plan = toPlan(row);
    const progress = await fetchProgress(stats, owner, plan.weeks, c.get("mesh"), progressTimeoutMs, logger);
    return c.json({ ...plan, ...progress }, 200);
  });

  app.openapi(deletePlan, async (c) => {
    const owner = requireUser(c);
    const { id } = c.req.valid("param");
    await store.write(async (tx) => {
      await findOwned(tx, owner, id);
      await tx.delete(planReports).where(eq(planReports.planId, id)).run();
      await tx.delete(plans).where(eq(plans.id, id)).run();
    });
    return c.body(null, 204);
  });

  app.openapi(requestReport, async (c) => {
    const owner = requireUser(c);
    const { id } = c.req.valid("param");
    const row = await store.write(async (tx) =>
      requestSeasonReport(tx, tasks, await findOwned(tx, owner, id)),
    );
    c.header("location", `/api/plans/plans/${id}/report`);
    return c.json(toPlanReport(row), 202);
  });

  app.openapi(getReport, async (c) => {
    const owner = requireUser(c);
    const { id } = c.req.valid("param");
    found(await reads.ownedPlan(owner, id), id);
    const row = await reads.report(owner, id);
    if (!row) throw new MeshError(404, { detail: `no season report asked for plan ${id} yet` });
    if (!acceptsEventStream(c)) return c.json(toPlanReport(row), 200);
    // The task ends in the callback's transaction, the one that stores the report.
    return taskStatusResponse(c, tasks, row.taskId, async () =>
      toPlanReport((await reads.report(owner, id)) ?? row),
    );
  });

  return app;
}
