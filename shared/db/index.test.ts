import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import { currentDeadline, withDeadline } from "../deadline/index.ts";
import { MeshError } from "../errors/index.ts";
import { silentLogger } from "../log/logger.ts";
import * as schema from "../testing/fixture/schema.ts";
import { limitCompiledOnce } from "./bun-sqlite.ts";
import { defaultDatabaseUrl, openStore } from "./index.ts";

const dir = mkdtempSync(join(tmpdir(), "runnerly-db-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const migrationsFolder = new URL("../testing/fixture/drizzle", import.meta.url).pathname;

for (const driver of ["bun-sqlite", "libsql"] as const) {
  describe(`store on ${driver}`, () => {
    const url = defaultDatabaseUrl(dir, `db-${driver}`);
    const open = () => openStore({ url, schema, migrationsFolder, driver, logger: silentLogger });

    // bun-sqlite commits with NORMAL and syncs the WAL itself before a write resolves (wal-sync.ts).
    const synchronous = driver === "bun-sqlite" ? 1 : 2;

    test("applies migrations and sets WAL, busy_timeout and synchronous (FULL, or NORMAL with the WAL synced by the store)", async () => {
      const store = await open();
      expect(store.driver).toBe(driver);
      // Drivers return a PRAGMA row as an object or as an array of values.
      const pragma = async (name: string) => {
        const row = (await store.db.get(sql.raw(`PRAGMA ${name}`))) as unknown;
        return Array.isArray(row) ? row[0] : Object.values(row as object)[0];
      };
      expect(await pragma("journal_mode")).toBe("wal");
      expect(await pragma("synchronous")).toBe(synchronous);
      expect(await pragma("busy_timeout")).toBe(5000);
      await store.close();
    });

    test("every write transaction has the store's settings, with reads running beside it", async () => {
      const store = await open();
      const pragma = async (db: typeof store.db, name: string) => {
        const row = (await db.get(sql.raw(`PRAGMA ${name}`))) as unknown;
        return Number(Array.isArray(row) ? row[0] : Object.values(row as object)[0]);
      };
      // A read started first holds a connection while the transaction begins: a pool would
      // hand the transaction another connection, which must have the same settings.
      const seen = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const [, settings] = await Promise.all([
            store.db.select().from(schema.items),
            store.write(async (tx) => {
              await tx.insert(schema.items).values({ owner: "pragma", name: `w${i}`, qty: i });
              return ["foreign_keys", "synchronous", "busy_timeout"].map((name) => pragma(tx, name));
            }),
            store.db.select().from(schema.items),
          ]);
          return Promise.all(settings);
        }),
      );
      // bun-sqlite's writer never waits inside SQLite once started (group-commit.ts retries).
      const busyTimeout = driver === "bun-sqlite" ? 0 : 5000;
      expect(seen).toEqual(Array.from({ length: 8 }, () => [1, synchronous, busyTimeout]));
      await store.close();
    });

    test("write commits, or rolls back everything when the function throws", async () => {
      const store = await open();
      await store.write(async (tx) => {
        await tx.insert(schema.items).values({ owner: "o", name: "kept", qty: 1 });
      });
      const failed = store.write(async (tx) => {
        await tx.insert(schema.items).values({ owner: "o", name: "lost", qty: 1 });
        throw new Error("abort");
      });
      await expect(failed).rejects.toThrow("abort");
      const names = (await store.db.select().from(schema.items)).map((r) => r.name);
      expect(names).toContain("kept");
      expect(names).not.toContain("lost");
      await store.close();
    });

    test("a write still running at its request's deadline is rolled back with a 504; one within it commits", async () => {
      const store = await open();
      // The work outlasts the deadline: it waits for a timer that fires after it.
      const deadline = Date.now() + 40;
      const late = withDeadline(deadline, () =>
        store.write(async (tx) => {
          await tx.insert(schema.items).values({ owner: "d", name: "late", qty: 1 });
          await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()) + 20));
        }),
      );
      const err = await late.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MeshError);
      expect((err as MeshError).status).toBe(504);
      expect((err as MeshError).detail).toContain("nothing was stored");
      await withDeadline(Date.now() + 10_000, () =>
        store.write((tx) => tx.insert(schema.items).values({ owner: "d", name: "in time", qty: 1 })),
      );
      // Work a commit sets off (the outbox relay's wake-up) runs outside the request's deadline.
      const after = new Promise<number | undefined>((resolve) =>
        withDeadline(Date.now() + 10_000, () =>
          store.write(async () => store.afterCommit(() => resolve(currentDeadline()))),
        ),
      );
      expect(await after).toBeUndefined();
      const names = (await store.db.select().from(schema.items).where(eq(schema.items.owner, "d"))).map(
        (r) => r.name,
      );
      expect(names).toEqual(["in time"]);
      await store.close();
    });

    test("the same query run again and again, prepared or built each time, gives each call its own answer", async () => {
      const store = await open();
      const names = Array.from({ length: 20 }, (_, i) => `same-sql-${i}`);
      await Promise.all(
        names.map((name, i) =>
          store.write((tx) => tx.insert(schema.items).values({ owner: "s", name, qty: i })),
        ),
      );
      const byName = store.db
        .select()
        .from(schema.items)
        .where(eq(schema.items.name, sql.placeholder("name")))
        .prepare();
      for (const [i, name] of names.entries()) {
        const built = await store.db.select().from(schema.items).where(eq(schema.items.name, name)).get();
        const prepared = await byName.get({ name });
        expect([built?.qty, prepared?.qty]).toEqual([i, i]);
      }
      await store.close();
    });

    test("a limit and an offset, bound or built in, give the rows they name", async () => {
      const store = await open();
      await Promise.all(
        [1, 2, 3, 4, 5].map((qty) =>
          store.write((tx) => tx.insert(schema.items).values({ owner: "limits", name: "l", qty })),
        ),
      );
      const page = store.db
        .select()
        .from(schema.items)
        .where(eq(schema.items.owner, "limits"))
        .orderBy(schema.items.qty)
        .limit(sql.placeholder("limit"))
        .offset(sql.placeholder("offset"))
        .prepare();
      const qty = (rows: { qty: number }[]) => rows.map((r) => r.qty);
      expect(qty(await page.all({ limit: 2, offset: 1 }))).toEqual([2, 3]);
      expect(qty(await page.all({ limit: 3, offset: 3 }))).toEqual([4, 5]);
      const built = await store.db
        .select()
        .from(schema.items)
        .where(eq(schema.items.owner, "limits"))
        .orderBy(schema.items.qty)
        .limit(4);
      expect(qty(built)).toEqual([1, 2, 3, 4]);
      await store.close();
    });

    test("two processes writing to one file lose nothing", async () => {
      const store = await open();
      const before = (await store.db.select().from(schema.items).where(eq(schema.items.owner, "race")))
        .length;
      const writer = (tag: string) =>
        Bun.spawn(
          [
            process.execPath,
            new URL("./testdata/writer.ts", import.meta.url).pathname,
            url,
            driver,
            tag,
            "40",
          ],
          {
            stdout: "ignore",
            stderr: "inherit",
          },
        );
      const children = [writer("a"), writer("b")];
      expect(await Promise.all(children.map((c) => c.exited))).toEqual([0, 0]);
      const rows = await store.db.select().from(schema.items).where(eq(schema.items.owner, "race"));
      expect(rows.length - before).toBe(80);
      await store.close();
    });
  });
}

test("bun-sqlite: a write whose WAL cannot be synced fails, and the store writes nothing more", async () => {
  const path = join(mkdtempSync(join(dir, "unsyncable-")), "db.sqlite");
  const store = await openStore({ url: `file:${path}`, schema, migrationsFolder, logger: silentLogger });
  // SQLite keeps writing through the descriptor it holds; the store's own sync finds no `-wal` file.
  renameSync(`${path}-wal`, `${path}-wal.moved`);
  const first = store.write((tx) => tx.insert(schema.items).values({ owner: "sync", name: "a", qty: 1 }));
  await expect(first).rejects.toThrow(/db\.sqlite-wal.*no longer accepts writes.*restart the service/);
  let ran = false;
  const second = store.write(async (tx) => {
    ran = true;
    await tx.insert(schema.items).values({ owner: "sync", name: "b", qty: 1 });
  });
  await expect(second).rejects.toThrow(/no longer accepts writes/);
  expect(ran).toBe(false);
  await store.close();
});

test("bun-sqlite compiles a statement's bare bound LIMIT as an expression, so SQLite compiles it once", async () => {
  const cases: [string, string][] = [
    ["select * from t order by id limit ?", "select * from t order by id limit (? + 0)"],
    ["select * from t limit ? offset ?", "select * from t limit (? + 0) offset ?"],
    ['select "a" from "t" LIMIT ?', 'select "a" from "t" limit (? + 0)'],
    ["select * from t limit 5", "select * from t limit 5"],
    [
      "select * from t where id in (select id from u limit ?) and x = ?",
      "select * from t where id in (select id from u limit ?) and x = ?",
    ],
    ["select * from t", "select * from t"],
  ];
  for (const [given, compiled] of cases) expect(limitCompiledOnce(given)).toBe(compiled);
  // The store's connections compile what drizzle sends that way (the statement shows its SQL).
  const store = await openStore({
    url: defaultDatabaseUrl(dir, "db-limit"),
    schema,
    migrationsFolder,
    driver: "bun-sqlite",
    logger: silentLogger,
  });
  const client = (store.db as unknown as { $client: { prepare(sql: string): { toString(): string } } })
    .$client;
  expect(client.prepare("select * from items limit ?").toString()).toContain("limit (");
  await store.close();
});

test("bun-sqlite refuses a remote URL with a clear error", async () => {
  await expect(
    openStore({
      url: "libsql://db.example",
      schema,
      migrationsFolder,
      driver: "bun-sqlite",
      logger: silentLogger,
    }),
  ).rejects.toThrow(/needs a file: URL/);
});
