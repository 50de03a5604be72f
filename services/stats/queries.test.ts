import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultDatabaseUrl, openStore, type Store, silentLogger } from "@runnerly/kit";
import * as schema from "./db/schema.ts";
import { prepareStatsReads, type StatsReads } from "./queries.ts";

const dir = mkdtempSync(join(tmpdir(), "stats-queries-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const migrationsFolder = new URL("./drizzle", import.meta.url).pathname;

const seen = (runId: string, user: string, day: string, distanceM: number, best5k: number | null) => ({
  runId,
  user,
  distanceM,
  durationS: distanceM / 4,
  startedAt: `${day}T07:00:00.000Z`,
  day,
  best5k,
  best10k: null,
  bestHalf: null,
  bestMarathon: null,
});
const total = (user: string, period: "week" | "month", key: string, distanceM: number) => ({
  user,
  period,
  key,
  distanceM,
  durationS: distanceM / 4,
  runs: 1,
});

async function seed(store: Store<typeof schema>): Promise<void> {
  await store.write(async (tx) => {
    await tx
      .insert(schema.runsSeen)
      .values([
        seen("r1", "alice", "2026-01-05", 5000, 1250),
        seen("r2", "alice", "2026-01-06", 8000, 1200),
        seen("r3", "bob", "2026-01-06", 20_000, 1000),
      ])
      .run();
    await tx
      .insert(schema.totals)
      .values([
        total("alice", "week", "2026-W01", 4000),
        total("alice", "week", "2026-W02", 13_000),
        total("alice", "week", "2026-W03", 8000),
        total("alice", "month", "2026-01", 25_000),
        total("bob", "week", "2026-W02", 20_000),
      ])
      .run();
    await tx
      .insert(schema.reports)
      .values({ id: "rep", user: "alice", month: "2026-01", status: "pending", requestedAt: 1 })
      .run();
  });
}

for (const driver of ["bun-sqlite", "libsql"] as const) {
  describe(`prepared stats reads on ${driver}`, () => {
    let store: Store<typeof schema>;
    let reads: StatsReads;
    beforeAll(async () => {
      const url = defaultDatabaseUrl(dir, `stats-${driver}`);
      store = await openStore({ url, schema, migrationsFolder, driver, logger: silentLogger });
      await seed(store);
      reads = prepareStatsReads(store.db);
    });
    afterAll(() => store?.close());

    test("period totals are the user's latest, newest first, up to the limit", async () => {
      expect((await reads.periodTotals("alice", "week", 2)).map((t) => t.key)).toEqual([
        "2026-W03",
        "2026-W02",
      ]);
      expect((await reads.periodTotals("alice", "month", 10)).map((t) => t.key)).toEqual(["2026-01"]);
      expect(await reads.periodTotals("carol", "week", 10)).toEqual([]);
    });

    test("weeks between two keys are the user's, oldest first", async () => {
      const weeks = await reads.weeksBetween("alice", "2026-W02", "2026-W03");
      expect(weeks.map((w) => [w.key, w.distanceM])).toEqual([
        ["2026-W02", 13_000],
        ["2026-W03", 8000],
      ]);
    });

    test("summary, bests and trend come from the user's runs only", async () => {
      const summary = await reads.summary("alice", "2026-01-06");
      expect(summary).toMatchObject({ distanceM: 13_000, runs: 2, currentStreakDays: 2 });
      expect(summary.longestRun?.runId).toBe("r2");
      expect(await reads.personalBests("alice")).toMatchObject([
        { distance: "5k", timeS: 1200, runId: "r2" },
      ]);
      expect((await reads.paceTrend("alice", 2)).map((p) => p.week)).toEqual(["2026-W02", "2026-W03"]);
    });

    test("a report is found for the user who asked for it only", async () => {
      expect((await reads.report("alice", "rep"))?.month).toBe("2026-01");
      expect(await reads.report("bob", "rep")).toBeUndefined();
    });
  });
}
