/** The runs service: a runner's runs, each owned by the caller the edge names. */
import { defineService, perInstance, type ServiceContext, WorkPool } from "@runnerly/kit";
import { runDeleted, runLogged, runUpdated } from "./contract.ts";
import * as schema from "./db/schema.ts";
import type { TrackSummary } from "./gpx.ts";
import { runsRoutes } from "./routes.ts";
import { loadRunsSettings } from "./settings.ts";

type Schema = typeof schema;

/**
 * The runs service, reading its own settings (the GPX import's threads and
 * bounds) from `env` when an instance starts.
 *
 * @example
 * await startService(runsService(env), { env });
 */
export function runsService(env: Record<string, string | undefined> = process.env) {
  // One pool of GPX threads per running instance, shared by its routes and stopped with it.
  const poolOf = perInstance((_ctx: ServiceContext<Schema>) => {
    const settings = loadRunsSettings(env);
    return new WorkPool<ArrayBuffer, TrackSummary>({
      name: "GPX import",
      module: new URL("./gpx-worker.ts", import.meta.url),
      workers: settings.importWorkers,
      queue: settings.importQueue,
      perCaller: settings.importPerUser,
    });
  });

  return defineService({
    name: "runs",
    version: "1.0.0",
    slo: { availability: 99.9, latencyP99Ms: 300, rateLimit: { limit: 3000, windowMs: 60_000 } },
    description: "A runner's runs: log, list, change and delete them.",
    schema,
    migrationsFolder: new URL("./drizzle", import.meta.url).pathname,
    events: [runLogged, runUpdated, runDeleted],
    routes: (ctx) => runsRoutes(ctx.store, ctx.outbox, poolOf(ctx)),
    background: (ctx) => {
      const pool = poolOf(ctx);
      return [{ start() {}, stop: async () => pool.close() }];
    },
  });
}

export const service = runsService();
