/** The runs service: a runner's runs, each owned by the caller the edge names. */
import { defineService } from "@runnerly/kit";
import { runDeleted, runLogged, runUpdated } from "./contract.ts";
import * as schema from "./db/schema.ts";
import { runsRoutes } from "./routes.ts";

export const service = defineService({
  name: "runs",
  version: "1.0.0",
  slo: { availability: 99.9, latencyP99Ms: 300, rateLimit: { limit: 3000, windowMs: 60_000 } },
  description: "A runner's runs: log, list, change and delete them.",
  schema,
  migrationsFolder: new URL("./drizzle", import.meta.url).pathname,
  events: [runLogged, runUpdated, runDeleted],
  routes: ({ store, outbox }) => runsRoutes(store, outbox),
});
