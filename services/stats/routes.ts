/**
 * HTTP routes of the stats service (relative to `/api/stats`), each for the
 * caller the edge names.
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  acceptsEventStream,
  createRouter,
  jsonBody,
  jsonResponse,
  MeshError,
  problemContent,
  problemResponses,
  requireUser,
  type Store,
  statusResponse,
  type TaskClient,
  taskStatusResponse,
} from "@runnerly/kit";
import {
  PeriodQuery,
  PeriodTotal,
  PersonalBest,
  Report,
  ReportRequest,
  Summary,
  TrendPoint,
} from "./contract.ts";
import type * as schema from "./db/schema.ts";
import type { StatsReads } from "./queries.ts";
import { requestMonthlyReport } from "./reports.ts";

type Schema = typeof schema;
const errors = problemResponses({ 400: "Invalid input", 401: "No authenticated caller" });

export const getSummary = createRoute({
  method: "get",
  path: "/summary",
  summary: "Totals, average pace, longest run and current streak",
  responses: { 200: jsonResponse("The caller's summary", Summary), ...errors },
});
export const getWeekly = createRoute({
  method: "get",
  path: "/weekly",
  summary: "Totals by ISO week, newest first",
  request: { query: PeriodQuery },
  responses: { 200: jsonResponse("Weekly totals", z.object({ items: z.array(PeriodTotal) })), ...errors },
});
export const getMonthly = createRoute({
  method: "get",
  path: "/monthly",
  summary: "Totals by month, newest first",
  request: { query: PeriodQuery },
  responses: { 200: jsonResponse("Monthly totals", z.object({ items: z.array(PeriodTotal) })), ...errors },
});
export const getBests = createRoute({
  method: "get",
  path: "/bests",
  summary: "Personal bests: fastest 5 km, 10 km, half and full marathon within a run",
  responses: {
    200: jsonResponse("The caller's bests", z.object({ items: z.array(PersonalBest) })),
    ...errors,
  },
});
export const getTrend = createRoute({
  method: "get",
  path: "/trend",
  summary: "Average pace by week, oldest first",
  request: { query: PeriodQuery },
  responses: { 200: jsonResponse("Pace trend", z.object({ items: z.array(TrendPoint) })), ...errors },
});
export const requestReport = createRoute({
  method: "post",
  path: "/reports",
  summary:
    "Ask for a monthly report; its task stats/report.monthly computes it, then report.ready announces it",
  request: { body: jsonBody(ReportRequest) },
  responses: { 202: jsonResponse("Accepted; poll the report or listen for report.ready", Report), ...errors },
});
export const getReport = createRoute({
  method: "get",
  path: "/reports/{id}",
  summary:
    "A monthly report, pending or ready (with Accept: text/event-stream, a `status` event per change until it is ready)",
  request: { params: z.object({ id: z.uuid() }) },
  responses: {
    200: statusResponse("The report", Report, "Report"),
    404: { description: "No such report", content: problemContent },
    ...errors,
  },
});

type ReportRow = typeof schema.reports.$inferSelect;

function reportBody(row: ReportRow): Report {
  return {
    reportId: row.id,
    month: row.month,
    status: row.status,
    report: row.body ? JSON.parse(row.body) : null,
  };
}

export type StatsRoutesDeps = { store: Store<Schema>; reads: StatsReads; tasks: TaskClient };

export function statsRoutes({ store, reads, tasks }: StatsRoutesDeps) {
  const app = createRouter();
  app.openapi(getSummary, async (c) => {
    const user = requireUser(c);
    return c.json(await reads.summary(user, new Date().toISOString().slice(0, 10)), 200);
  });
  app.openapi(getWeekly, async (c) => {
    const user = requireUser(c);
    return c.json({ items: await reads.periodTotals(user, "week", c.req.valid("query").limit) }, 200);
  });
  app.openapi(getMonthly, async (c) => {
    const user = requireUser(c);
    return c.json({ items: await reads.periodTotals(user, "month", c.req.valid("query").limit) }, 200);
  });

  app.openapi(getBests, async (c) => {
    const user = requireUser(c);
    return c.json({ items: await reads.personalBests(user) }, 200);
  });
  app.openapi(getTrend, async (c) => {
    const user = requireUser(c);
    return c.json({ items: await reads.paceTrend(user, c.req.valid("query").limit) }, 200);
  });

  app.openapi(requestReport, async (c) => {
    const user = requireUser(c);
    const { month } = c.req.valid("json");
    const { reportId } = await store.write((tx) => requestMonthlyReport(tx, tasks, user, month));
    c.header("location", `/api/stats/reports/${reportId}`);
    return c.json({ reportId, month, status: "pending" as const, report: null }, 202);
  });

  app.openapi(getReport, async (c) => {
    const user = requireUser(c);
    const { id } = c.req.valid("param");
    const row = await reads.report(user, id);
    if (!row) throw new MeshError(404, { detail: `report ${id} not found` });
    if (!acceptsEventStream(c) || !row.taskId) return c.json(reportBody(row), 200);
    // The task ends in the callback's transaction, the one that makes the report ready.
    return taskStatusResponse(c, tasks, row.taskId, async () =>
      reportBody((await reads.report(user, id)) ?? row),
    );
  });

  return app;
}
