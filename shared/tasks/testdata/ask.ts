/**
 * Test helpers of the task fixtures: start tasker and asker in this process,
 * ask asker for a task over its own HTTP port, read its recorded outcome.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import type { Db } from "../../db/index.ts";
import { silentLogger } from "../../log/logger.ts";
import { type RunningService, startService } from "../../service/index.ts";
import * as schema from "./schema.ts";
import { askerService, taskerService } from "./services.ts";

/** POSTs an ask to asker at `url` (its own HTTP base); the response as it came. */
export function postAsk(url: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${url}/api/asker/asks`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Asks asker at `url` for a task; the task's id (throws unless asker answered 202). */
export async function ask(url: string, body: Record<string, unknown>): Promise<string> {
  const res = await postAsk(url, body);
  if (res.status !== 202) throw new Error(`asker answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/** The outcome asker's callback recorded for task `id`, if any. */
export function outcomeOf(db: Db<typeof schema>, id: string) {
  return db.select().from(schema.outcomes).where(eq(schema.outcomes.taskId, id)).get();
}

/** tasker and asker running in this process against `natsUrl`, each with a store of its own. */
export type TaskFixtures = {
  tasker: RunningService<typeof schema>;
  asker: RunningService<typeof schema>;
  stop(): Promise<void>;
};

/**
 * Starts tasker (`options`: its maxDeliver and concurrency) and asker on a
 * nats-server, each in a temp data dir; `env` adds configuration to both.
 *
 * @example
 * const { tasker, asker, stop } = await startTaskFixtures(nats.url, { maxDeliver: 3 });
 */
export async function startTaskFixtures(
  natsUrl: string,
  options: Parameters<typeof taskerService>[0] = {},
  env: Record<string, string> = {},
): Promise<TaskFixtures> {
  const envOf = (name: string) => ({
    NATS_URL: natsUrl,
    DATA_DIR: mkdtempSync(join(tmpdir(), `tasks-${name}-`)),
    LOG_LEVEL: "silent",
    ...env,
  });
  const tasker = (await startService(taskerService(options), {
    env: envOf("tasker"),
    logger: silentLogger,
  })) as unknown as RunningService<typeof schema>;
  const asker = (await startService(askerService(), {
    env: envOf("asker"),
    logger: silentLogger,
  })) as unknown as RunningService<typeof schema>;
  return {
    tasker,
    asker,
    async stop() {
      await asker.stop();
      await tasker.stop();
    },
  };
}
