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

  test("covered() syncs only when the file changed since the last sync was asked for, by any connection", async () => {
    const { path, db } = open();
    const reader = new Database(path);
    const version = reader.query<{ data_version: number }, []>("PRAGMA data_version");
    const wal = new WalSync(path, () => version.get()?.data_version ?? -1);
    // Nothing asked for yet: the first covered() syncs.
    await wal.covered();
    expect(wal.syncs).toBe(1);
    // No commit since: no new sync, again and again.
    await wal.covered();
    await wal.covered();
    expect(wal.syncs).toBe(1);
    // A commit of the writer's, synced by the commit's own sync: covered() adds none.
    db.run("INSERT INTO t VALUES ('a')");
    await wal.sync();
    expect(wal.syncs).toBe(2);
    await wal.covered();
    expect(wal.syncs).toBe(2);
    // A commit nobody synced yet (as another process sharing the file would make): a new sync.
    const other = new Database(path);
    other.run("INSERT INTO t VALUES ('b')");
    await wal.covered();
    expect(wal.syncs).toBe(3);
    // While the sync asked for still runs, covered() waits for that one instead of starting another.
    db.run("INSERT INTO t VALUES ('c')");
    const running = wal.sync();
    const covered = wal.covered();
    expect(wal.syncs).toBe(4);
    await Promise.all([running, covered]);
    expect(wal.syncs).toBe(4);
    // Without a version every covered() is a sync of its own.
    const blind = new WalSync(path);
    await blind.covered();
    await blind.covered();
    expect(blind.syncs).toBe(2);
    await blind.close();
    version.finalize();
    other.close();
    reader.close();
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
