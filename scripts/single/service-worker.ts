/**
 * Worker entry of one service in the one-process launcher: imports the
 * folder's `service.ts` (its `service` export, made by `defineService`) and
 * runs it with the kit's `startService`, reading this worker's own
 * environment: its NATS user, its DATA_DIR (so its own SQLite file), PORT=0.
 * On `stop` it stops as a service process does on SIGTERM: announces that it
 * stops, finishes in-flight work, drains NATS, closes its store.
 */
import { join } from "node:path";
import { createLogger, type ServiceDefinition, startService, startTracing } from "@runnerly/kit";
import type { ServiceJob } from "./protocol.ts";
import { forwardLogs, hostInWorker } from "./worker-host.ts";

const LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);

hostInWorker(async (job) => {
  const { name, dir } = job as ServiceJob;
  const mod = (await import(join(dir, "service.ts"))) as {
    service?: ServiceDefinition<Record<string, unknown>, never>;
  };
  if (!mod.service?.name)
    throw new Error(`${name}: service.ts has no \`service\` export made by defineService`);
  const def = mod.service;
  // A bad LOG_LEVEL is startService's to report, with every other bad key.
  const level = LEVELS.has(process.env.LOG_LEVEL ?? "") ? process.env.LOG_LEVEL : "info";
  const logger = forwardLogs(createLogger(def.name, level));
  const tracing = startTracing({ serviceName: def.name, version: def.version, logger });
  const running = await startService(def, { env: process.env, logger }).catch(async (err: unknown) => {
    await tracing.shutdown();
    throw err;
  });
  return {
    url: running.url,
    async stop() {
      running.logger.info({ reason: "launcher stopping" }, "shutdown requested");
      await running.stop();
      await tracing.shutdown();
    },
  };
});
