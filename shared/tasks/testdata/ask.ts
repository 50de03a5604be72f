/** Test helpers of the task fixtures: ask `asker` for a task over its own HTTP port, read its recorded outcome. */
import { eq } from "drizzle-orm";
import type { Db } from "../../db/index.ts";
import * as schema from "./schema.ts";

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
