/** The kit's task tables as migrated: what the deadline watch reads and what a task without a deadline adds. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultDatabaseUrl, openStore } from "../db/index.ts";
import { silentLogger } from "../log/logger.ts";
import * as schema from "../testing/fixture/schema.ts";
import { dueTasks, nextDeadline } from "./results.ts";
import { tasksSent } from "./tables.ts";

const dir = mkdtempSync(join(tmpdir(), "runnerly-task-tables-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const migrationsFolder = new URL("../testing/fixture/drizzle", import.meta.url).pathname;

test("the deadline watch reads the pending index, which is only of pending tasks that have a deadline", async () => {
  const store = await openStore({
    url: defaultDatabaseUrl(dir, "tasks"),
    schema,
    migrationsFolder,
    driver: "bun-sqlite",
    logger: silentLogger,
  });
  try {
    const db = store.db as never as Parameters<typeof dueTasks>[0];
    const client = (store.db as unknown as { $client: import("bun:sqlite").Database }).$client;
    const plan = (query: { toSQL(): { sql: string; params: unknown[] } }) => {
      const { sql: text, params } = query.toSQL();
      const rows = client.query(`EXPLAIN QUERY PLAN ${text}`).all(...(params as never[])) as {
        detail: string;
      }[];
      return rows.map((r) => r.detail).join("; ");
    };
    const byIndex = /USING (COVERING )?INDEX _mesh_tasks_sent_pending\b/;
    expect(plan(dueTasks(db, Date.now(), 100))).toMatch(byIndex);
    expect(plan(nextDeadline(db))).toMatch(byIndex);

    const row = (id: string, deadline: number | null) => ({
      id,
      owner: "stats",
      task: "report",
      version: 1,
      callback: "done",
      input: "{}",
      attempt: 1,
      status: "pending",
      deadline,
      submittedAt: 1,
    });
    await store.write((tx) =>
      (tx as never as typeof db).insert(tasksSent).values([row("a", null), row("b", 5000), row("c", 2000)]),
    );
    expect((await dueTasks(db, 3000, 100)).map((r) => r.id)).toEqual(["c"]);
    expect(await nextDeadline(db).get()).toEqual({ deadline: 2000 });
    const definition = client
      .query("SELECT sql FROM sqlite_master WHERE name = '_mesh_tasks_sent_pending'")
      .get() as { sql: string };
    // Partial on both: a task without a deadline adds no entry when submitted and removes none when finished.
    expect(definition.sql).toContain("WHERE status = 'pending' AND deadline IS NOT NULL");
  } finally {
    await store.close();
  }
});
