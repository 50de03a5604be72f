import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultDatabaseUrl, openStore, type Store, silentLogger } from "@runnerly/kit";
import * as schema from "./db/schema.ts";
import { ownedRunIn, type PageOptions, prepareRunReads, type RunReads } from "./queries.ts";

const dir = mkdtempSync(join(tmpdir(), "runs-queries-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const migrationsFolder = new URL("./drizzle", import.meta.url).pathname;

const run = (id: string, owner: string, startedAt: string, kind = "easy"): schema.RunRow => ({
  id,
  owner,
  distanceM: 5000,
  durationS: 1500,
  startedAt,
  kind,
  notes: "",
  source: "manual",
  elevationGainM: null,
  splits: null,
  createdAt: startedAt,
  updatedAt: startedAt,
});

// Two runs share a start time, so the cursor's tie-break on id is exercised.
const rows = [
  run("a", "alice", "2026-01-01T07:00:00.000Z"),
  run("b", "alice", "2026-01-02T07:00:00.000Z", "long"),
  run("c", "alice", "2026-01-02T07:00:00.000Z"),
  run("d", "alice", "2026-01-03T07:00:00.000Z", "long"),
  run("z", "bob", "2026-01-04T07:00:00.000Z"),
];

for (const driver of ["bun-sqlite", "libsql"] as const) {
  describe(`prepared run reads on ${driver}`, () => {
    let store: Store<typeof schema>;
    let reads: RunReads;
    beforeAll(async () => {
      const url = defaultDatabaseUrl(dir, `runs-${driver}`);
      store = await openStore({ url, schema, migrationsFolder, driver, logger: silentLogger });
      await store.write((tx) => tx.insert(schema.runs).values(rows).run());
      reads = prepareRunReads(store.db);
    });
    afterAll(() => store?.close());

    test("a run is found for its owner only, as inside a transaction", async () => {
      expect((await reads.ownedRun("alice", "a"))?.id).toBe("a");
      expect(await reads.ownedRun("bob", "a")).toBeUndefined();
      expect(await reads.ownedRun("alice", "missing")).toBeUndefined();
      expect(await store.write((tx) => ownedRunIn(tx, "bob", "a"))).toBeUndefined();
      expect(await store.write((tx) => ownedRunIn(tx, "alice", "a"))).toEqual(rows[0]!);
    });

    test("pages list the owner's runs newest first, ties by id, after the cursor", async () => {
      const ids = async (options: PageOptions) => (await reads.page("alice", options)).map((r) => r.id);
      expect(await ids({ after: null, limit: 10 })).toEqual(["d", "c", "b", "a"]);
      expect(await ids({ after: null, limit: 2 })).toEqual(["d", "c"]);
      expect(await ids({ after: { startedAt: "2026-01-02T07:00:00.000Z", id: "c" }, limit: 10 })).toEqual([
        "b",
        "a",
      ]);
      expect(await ids({ kind: "long", after: null, limit: 10 })).toEqual(["d", "b"]);
      expect(
        await ids({ kind: "long", after: { startedAt: "2026-01-03T07:00:00.000Z", id: "d" }, limit: 10 }),
      ).toEqual(["b"]);
    });

    test("the prepared statements see rows written after they were prepared", async () => {
      await store.write((tx) =>
        tx
          .insert(schema.runs)
          .values(run("e", "alice", "2026-02-01T07:00:00.000Z"))
          .run(),
      );
      expect((await reads.page("alice", { after: null, limit: 1 }))[0]?.id).toBe("e");
      expect((await reads.ownedRun("alice", "e"))?.startedAt).toBe("2026-02-01T07:00:00.000Z");
    });
  });
}
