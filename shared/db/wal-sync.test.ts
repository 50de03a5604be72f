import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WalSync } from "./wal-sync.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A WAL-mode database committing with synchronous = NORMAL, and its WalSync. */
function open() {
  const dir = mkdtempSync(join(tmpdir(), "wal-sync-"));
  dirs.push(dir);
  const path = join(dir, "db.sqlite");
  const db = new Database(path, { create: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = NORMAL");
  db.run("CREATE TABLE t (v TEXT)");
  return { dir, path, db, wal: new WalSync(path) };
}

describe("WalSync", () => {
  test("commits made while a sync runs share the next one, which begins after it", async () => {
    const { db, wal } = open();
    wal.syncDirectory();
    db.run("INSERT INTO t VALUES ('a')");
    const first = wal.sync();
    db.run("INSERT INTO t VALUES ('b')");
    const second = wal.sync();
    db.run("INSERT INTO t VALUES ('c')");
    const third = wal.sync();
    // The first may have begun before 'b' and 'c' were written: they wait for one more sync.
    expect(second).toBe(third);
    expect(second).not.toBe(first);
    expect(wal.syncs).toBe(1);
    const settled = wal.settled();
    expect(settled).toBe(second);
    await Promise.all([first, second, third]);
    expect(wal.syncs).toBe(2);
    // Nothing asked for since: settled at once, and a new commit starts a sync of its own.
    await wal.settled();
    await wal.sync();
    expect(wal.syncs).toBe(3);
    await wal.close();
    db.close();
  });

  test("a sync that fails fails every later one, naming the file and what to do", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wal-sync-"));
    dirs.push(dir);
    const failed = new WalSync(join(dir, "missing.sqlite"));
    expect(failed.failure).toBeNull();
    await expect(failed.sync()).rejects.toThrow(/missing\.sqlite-wal.*restart the service/);
    expect(failed.failure?.message).toContain("no longer accepts writes");
    await expect(failed.sync()).rejects.toThrow(/no longer accepts writes/);
    await expect(failed.settled()).rejects.toThrow(/no longer accepts writes/);
  });
});
