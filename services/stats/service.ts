/** The stats service: totals, pace, streaks and monthly reports built from run events. */
import { defineService, type ServiceContext } from "@runnerly/kit";
import { reportReady, statsRpc } from "./contract.ts";
import * as schema from "./db/schema.ts";
import { updateTotals } from "./events.ts";
import { prepareStatsReads } from "./queries.ts";
import { ReportWorker } from "./reports.ts";
import { statsRoutes } from "./routes.ts";

type Schema = typeof schema;

/** One `T` per running instance (keyed by its store), shared by its routes, RPC handlers and lifecycle. */
function perInstance<T>(make: (ctx: ServiceContext<Schema>) => T): (ctx: ServiceContext<Schema>) => T {
  const made = new WeakMap<object, T>();
  return (ctx) => {
    let value = made.get(ctx.store);
    if (value === undefined) {
      value = make(ctx);
      made.set(ctx.store, value);
    }
    return value;
  };
}

const workerOf = perInstance((ctx) => new ReportWorker(ctx.store, ctx.outbox, ctx.logger));
// Prepared once per store: the routes and the RPC handlers share the statements.
const readsOf = perInstance((ctx) => prepareStatsReads(ctx.store.db));

export const service = defineService({
  name: "stats",
  version: "1.0.0",
  slo: { availability: 99.5, latencyP99Ms: 500, rateLimit: { limit: 3000, windowMs: 60_000 } },
  description: "Weekly and monthly totals, pace, streaks and reports, built from run events.",
  schema,
  migrationsFolder: new URL("./drizzle", import.meta.url).pathname,
  events: [reportReady],
  consumers: () => [updateTotals],
  routes: (ctx) => statsRoutes(ctx.store, readsOf(ctx), workerOf(ctx)),
  rpc: {
    contract: statsRpc,
    handlers: (ctx) => {
      const reads = readsOf(ctx);
      return { weeklyTotals: async ({ user, from, to }) => reads.weeksBetween(user, from, to) };
    },
  },
  background: (ctx) => [workerOf(ctx)],
});
