/**
 * The plans service: training plans toward a race, with progress from stats
 * when it can be had, and season reports asked of stats as tasks.
 */
import { createRpcClient, defineService, loadConfig, rpcSubject } from "@runnerly/kit";
import { seasonReport, statsRpc } from "@runnerly/stats/contract.ts";
import { z } from "zod";
import * as schema from "./db/schema.ts";
import { seasonReportCallbacks } from "./reports.ts";
import { plansRoutes } from "./routes.ts";

/** The plans service's own settings (README.md, Configuration). */
export const plansConfig = z.object({
  /** How long a plan waits for stats before answering without progress. */
  PLANS_PROGRESS_TIMEOUT_MS: z.coerce.number().int().min(10).max(30_000).default(500),
});

export const service = defineService({
  name: "plans",
  version: "1.0.0",
  // Progress waits up to PLANS_PROGRESS_TIMEOUT_MS (500) for stats, then answers degraded.
  slo: { availability: 99.5, latencyP99Ms: 800, rateLimit: { limit: 600, windowMs: 60_000 } },
  description: "Training plans toward a race, with progress from stats.",
  schema,
  migrationsFolder: new URL("./drizzle", import.meta.url).pathname,
  // Its NATS user may publish these RPC subjects and no other (shared/security).
  calls: [rpcSubject(statsRpc.service, "weeklyTotals")],
  tasks: {
    submits: [seasonReport],
    callbacks: () => seasonReportCallbacks(),
  },
  routes: ({ store, nc, logger, tasks }) => {
    const config = loadConfig(plansConfig);
    const stats = createRpcClient(nc, statsRpc, { timeoutMs: config.PLANS_PROGRESS_TIMEOUT_MS });
    return plansRoutes({ store, stats, progressTimeoutMs: config.PLANS_PROGRESS_TIMEOUT_MS, logger, tasks });
  },
});
