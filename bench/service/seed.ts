/**
 * Seeds the bench stores before a run: the kit's store for the bench service
 * (migrations applied the way the service applies them) and a plain SQLite
 * file with the same rows for the Moleculer peer, which reads it through
 * @libsql/client.
 */
import { Database } from "bun:sqlite";
import { rmSync } from "node:fs";
import { openStore, silentLogger } from "@runnerly/kit";
import { type BenchRow, SEED_ROWS, seedRow } from "../payloads.ts";
import * as schema from "./db/schema.ts";

/**
 * Creates `path` afresh with the bench service's migrations and `rows` seed rows.
 *
 * @example
 * await seedServiceStore(".data/bench/bench.db");
 */
export async function seedServiceStore(path: string, rows = SEED_ROWS): Promise<void> {
  removeDatabase(path);
  const store = await openStore({
    url: `file:${path}`,
    schema,
    migrationsFolder: new URL("./drizzle", import.meta.url).pathname,
    logger: silentLogger,
  });
  await store.write((tx) => {
    for (let start = 1; start <= rows; start += 500) {
      const batch: BenchRow[] = [];
      for (let n = start; n < start + 500 && n <= rows; n++) batch.push(seedRow(n));
      tx.insert(schema.items).values(batch).run();
    }
  });
  await store.close();
}

/**
 * Creates `path` afresh for the Moleculer peer: the same table and rows,
 * written with the same SQL the migration runs.
 */
export async function seedPeerStore(path: string, rows = SEED_ROWS): Promise<void> {
  removeDatabase(path);
  const migration = await Bun.file(new URL("./drizzle/0000_items.sql", import.meta.url)).text();
  const db = new Database(path, { create: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run(migration);
  const insert = db.prepare(
    "INSERT INTO items (id, owner, distance_m, duration_s, started_at, kind, notes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  db.transaction(() => {
    for (let n = 1; n <= rows; n++) {
      const r = seedRow(n);
      insert.run(
        r.id,
        r.owner,
        r.distanceM,
        r.durationS,
        r.startedAt,
        r.kind,
        r.notes,
        r.createdAt,
        r.updatedAt,
      );
    }
  })();
  db.close();
}

function removeDatabase(path: string): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
}
