import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultDatabaseUrl, openStore, type Store, silentLogger } from "@runnerly/kit";
import * as schema from "./db/schema.ts";
import { ownedPlanIn, type PlanReads, preparePlanReads } from "./queries.ts";

const dir = mkdtempSync(join(tmpdir(), "plans-queries-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const migrationsFolder = new URL("./drizzle", import.meta.url).pathname;

const plan = (id: string, owner: string, createdAt: string): schema.PlanRow => ({
  id,
  owner,
  name: `plan ${id}`,
  raceDate: "2027-04-01",
  raceDistanceM: 42_195,
  goalTimeS: 12_600,
  weeks: "[]",
  createdAt,
  updatedAt: createdAt,
});

const rows = [
  plan("a", "alice", "2026-01-01T00:00:00.000Z"),
  plan("b", "alice", "2026-02-01T00:00:00.000Z"),
  plan("z", "bob", "2026-03-01T00:00:00.000Z"),
];

for (const driver of ["bun-sqlite", "libsql"] as const) {
  describe(`prepared plan reads on ${driver}`, () => {
    let store: Store<typeof schema>;
    let reads: PlanReads;
    beforeAll(async () => {
      const url = defaultDatabaseUrl(dir, `plans-${driver}`);
      store = await openStore({ url, schema, migrationsFolder, driver, logger: silentLogger });
      await store.write((tx) => tx.insert(schema.plans).values(rows).run());
      reads = preparePlanReads(store.db);
    });
    afterAll(() => store?.close());

    test("a plan is found for its owner only, as inside a transaction", async () => {
      expect(await reads.ownedPlan("alice", "a")).toEqual(rows[0]!);
      expect(await reads.ownedPlan("bob", "a")).toBeUndefined();
      expect(await reads.ownedPlan("alice", "missing")).toBeUndefined();
      expect(await store.write((tx) => ownedPlanIn(tx, "bob", "a"))).toBeUndefined();
      expect(await store.write((tx) => ownedPlanIn(tx, "alice", "a"))).toEqual(rows[0]!);
    });

    test("the list holds the owner's plans, newest first", async () => {
      expect((await reads.latest("alice")).map((p) => p.id)).toEqual(["b", "a"]);
      expect((await reads.latest("carol")).length).toBe(0);
    });
  });
}
