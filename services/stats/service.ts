/** The stats service: totals, pace, streaks and reports built from run events. */
import { defineService, perInstance, type ServiceContext } from "@runnerly/kit";
import { monthlyReport, reportReady, seasonReport, statsRpc } from "./contract.ts";
import * as schema from "./db/schema.ts";
import { updateTotals } from "./events.ts";
import { prepareStatsReads } from "./queries.ts";
import { PendingReportsUpgrade, reportCallbacks, reportHandlers } from "./reports.ts";
import { statsRoutes } from "./routes.ts";

type Schema = typeof schema;

// Prepared once per store: the routes and the RPC handlers share the statements.
const readsOf = perInstance((ctx: ServiceContext<Schema>) => prepareStatsReads(ctx.store.db));

export const service = defineService({
  name: "stats",
  version: "1.0.0",
  slo: { availability: 99.5, latencyP99Ms: 500, rateLimit: { limit: 3000, windowMs: 60_000 } },
  description: "Weekly and monthly totals, pace, streaks and reports, built from run events.",
  schema,
  migrationsFolder: new URL("./drizzle", import.meta.url).pathname,
  events: [reportReady],
  consumers: () => [updateTotals],
  routes: (ctx) => statsRoutes({ store: ctx.store, reads: readsOf(ctx), tasks: ctx.tasks }),
  rpc: {
    contract: statsRpc,
    handlers: (ctx) => {
      const reads = readsOf(ctx);
      return { weeklyTotals: async ({ user, from, to }) => reads.weeksBetween(user, from, to) };
    },
  },
  tasks: {
    works: [monthlyReport, seasonReport],
    handlers: reportHandlers,
    // Stats asks itself for monthly reports: the result comes back to its own callback.
    submits: [monthlyReport],
    callbacks: ({ outbox }) => reportCallbacks(outbox),
  },
  background: (ctx) => [new PendingReportsUpgrade(ctx.store, ctx.tasks, ctx.logger)],
});
