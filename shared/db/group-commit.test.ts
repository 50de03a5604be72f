import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { AsyncLocalStorage } from "node:async_hooks";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../testing/wait.ts";
import { GroupCommit } from "./group-commit.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A WAL database file with a writer behind group commit and a second connection that reads. */
function open(durable?: () => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), "group-commit-"));
  dirs.push(dir);
  const path = join(dir, "db.sqlite");
  const writer = new Database(path, { create: true });
  writer.run("PRAGMA journal_mode = WAL");
  writer.run("PRAGMA foreign_keys = ON");
  writer.run("CREATE TABLE parent (id TEXT PRIMARY KEY)");
  writer.run(
    "CREATE TABLE item (name TEXT PRIMARY KEY, parent TEXT REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)",
  );
  const reader = new Database(path, { readonly: true });
  const commits = new GroupCommit(writer, writer, {
    begin: async () => void writer.run("BEGIN IMMEDIATE"),
    ...(durable ? { durable } : {}),
  });
  const names = () =>
    (reader.query("SELECT name FROM item ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  const insert = (name: string) => (db: Database) =>
    void db.run("INSERT INTO item (name) VALUES (?)", [name]);
  return { writer, reader, commits, names, insert };
}

/** A promise and the function that settles it. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

describe("GroupCommit", () => {
  test("writes that queue up while a transaction is open join it and commit once, together", async () => {
    const { commits, names, insert } = open();
    const g = gate();
    const seenBySecond: string[][] = [];
    const first = commits.write(async (db) => {
      insert("a")(db);
      await g.opened;
    });
    const second = commits.write((db) => {
      // Another connection does not see the first write yet: both are in one transaction.
      seenBySecond.push(names());
      insert("b")(db);
    });
    const third = commits.write(insert("c"));
    g.open();
    await Promise.all([first, second, third]);
    expect(seenBySecond).toEqual([[]]);
    expect(names()).toEqual(["a", "b", "c"]);
    expect({ commits: commits.commits, writes: commits.writes }).toEqual({ commits: 1, writes: 3 });
  });

  test("a write resolves only once its rows are committed", async () => {
    const { commits, names, insert } = open();
    await commits.write(insert("a"));
    expect(names()).toEqual(["a"]);
    await commits.write(insert("b"));
    expect(names()).toEqual(["a", "b"]);
    expect(commits.commits).toBe(2);
  });

  test("a write that throws leaves nothing behind and takes nobody else with it", async () => {
    const { commits, names, insert } = open();
    const g = gate();
    const first = commits.write(async (db) => {
      insert("a")(db);
      await g.opened;
    });
    const failing = commits.write((db) => {
      insert("b")(db);
      throw new Error("the handler failed");
    });
    const duplicate = commits.write(insert("a"));
    const last = commits.write(insert("c"));
    g.open();
    const outcomes = await Promise.allSettled([first, failing, duplicate, last]);
    expect(outcomes.map((o) => (o.status === "rejected" ? String(o.reason) : "ok"))).toEqual([
      "ok",
      "Error: the handler failed",
      expect.stringMatching(/UNIQUE/),
      "ok",
    ]);
    expect(names()).toEqual(["a", "c"]);
    expect({ commits: commits.commits, writes: commits.writes }).toEqual({ commits: 1, writes: 2 });
  });

  test("a commit that fails keeps none of the group and tells every write of it", async () => {
    const { commits, names, insert } = open();
    const g = gate();
    const first = commits.write(async (db) => {
      insert("a")(db);
      await g.opened;
    });
    // A deferred foreign key is checked at COMMIT: the whole group's commit fails.
    const orphan = commits.write(
      (db) => void db.run("INSERT INTO item (name, parent) VALUES ('b', 'nobody')"),
    );
    g.open();
    const outcomes = await Promise.allSettled([first, orphan]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(String((outcomes[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
    expect(names()).toEqual([]);
    // The connection is usable again.
    await commits.write(insert("c"));
    expect(names()).toEqual(["c"]);
  });

  test("a transaction that cannot begin fails its first write alone; the next ones try again", async () => {
    const { writer, names, insert } = open();
    let refusals = 1;
    const commits = new GroupCommit(writer, writer, {
      begin: async () => {
        if (refusals-- > 0) throw new Error("database is locked");
        writer.run("BEGIN IMMEDIATE");
      },
    });
    const results = await Promise.allSettled([commits.write(insert("a")), commits.write(insert("b"))]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled"]);
    expect(names()).toEqual(["b"]);
  });

  test("each write runs in its caller's async context, not the group's first", async () => {
    const { commits, insert } = open();
    const als = new AsyncLocalStorage<string>();
    const g = gate();
    const seen: (string | undefined)[] = [];
    const writes = ["first", "second", "third"].map((name, i) =>
      als.run(name, () =>
        commits.write(async (db) => {
          seen.push(als.getStore());
          insert(name)(db);
          if (i === 0) await g.opened;
        }),
      ),
    );
    g.open();
    await Promise.all(writes);
    expect(seen).toEqual(["first", "second", "third"]);
  });

  test("at most maxWrites join one transaction", async () => {
    const { writer, names, insert } = open();
    const commits = new GroupCommit(writer, writer, {
      begin: async () => void writer.run("BEGIN IMMEDIATE"),
      maxWrites: 2,
    });
    await Promise.all(["a", "b", "c", "d", "e"].map((n) => commits.write(insert(n))));
    expect(names()).toEqual(["a", "b", "c", "d", "e"]);
    expect(commits.commits).toBe(3);
  });

  test("idle() settles once nothing is queued or running", async () => {
    const { commits, names, insert } = open();
    const writes = ["a", "b"].map((n) => commits.write(insert(n)));
    await commits.idle();
    expect(names()).toEqual(["a", "b"]);
    await Promise.all(writes);
  });

  test("with durable, a write resolves only once its commit is durable, and the next group commits meanwhile", async () => {
    const syncs: ReturnType<typeof gate>[] = [];
    const { commits, names, insert } = open(() => {
      const g = gate();
      syncs.push(g);
      return g.opened;
    });
    let firstDone = false;
    const first = commits.write(insert("a")).then(() => {
      firstDone = true;
    });
    await waitFor(() => syncs.length === 1, { intervalMs: 1, what: "the first group's sync" });
    // Committed (another connection sees it) but not yet durable: the write waits.
    expect(names()).toEqual(["a"]);
    expect(firstDone).toBe(false);
    // The next write does not wait for the first one's sync to commit.
    const second = commits.write(insert("b"));
    await waitFor(() => syncs.length === 2, { intervalMs: 1, what: "the second group's sync" });
    expect(names()).toEqual(["a", "b"]);
    expect(commits.commits).toBe(2);
    expect(firstDone).toBe(false);
    syncs[0]?.open();
    await first;
    syncs[1]?.open();
    await second;
  });

  test("with durable, a failed sync fails every write of its group and idle() waits for it", async () => {
    const { commits, insert } = open(() => Promise.reject(new Error("disk gone")));
    const writes = ["a", "b"].map((n) => commits.write(insert(n)));
    await commits.idle();
    for (const w of writes) await expect(w).rejects.toThrow("disk gone");
  });
});
