/** The stats service: totals, pace, streaks and monthly reports built from run events. */
import { defineService, type ServiceContext } from "@runnerly/kit";
import { reportReady, statsRpc } from "./contract.ts";
import * as schema from "./db/schema.ts";
import { updateTotals } from "./events.ts";
import { weeksBetween } from "./queries.ts";
import { ReportWorker } from "./reports.ts";
import { statsRoutes } from "./routes.ts";

type Schema = typeof schema;

// One report worker per running instance, shared by its routes and its lifecycle.
const workers = new WeakMap<object, ReportWorker>();
function workerOf(ctx: ServiceContext<Schema>): ReportWorker {
  let worker = workers.get(ctx.store);
  if (!worker) {
    worker = new ReportWorker(ctx.store, ctx.outbox, ctx.logger);
    workers.set(ctx.store, worker);
  }
  return worker;
}

export const service = defineService({
  name: "stats",
  version: "1.0.0",
  slo: { availability: 99.5, latencyP99Ms: 500, rateLimit: { limit: 3000, windowMs: 60_000 } },
  description: "Weekly and monthly totals, pace, streaks and reports, built from run events.",
  schema,
  migrationsFolder: new URL("./drizzle", import.meta.url).pathname,
  events: [reportReady],
  consumers: () => [updateTotals],
  routes: (ctx) => statsRoutes(ctx.store, workerOf(ctx)),
  rpc: {
    contract: statsRpc,
    handlers: ({ store }) => ({
      weeklyTotals: async ({ user, from, to }) => weeksBetween(store.db, user, from, to),
    }),
  },
  background: (ctx) => [workerOf(ctx)],
});
