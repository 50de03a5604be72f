/** bun:sqlite adapter of the store (Bun-only; loaded only for `file:` URLs). */
import { Database, type Statement } from "bun:sqlite";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { type Db, type DriverStore, type StoreOptions, withStartupRetry } from "./driver.ts";
import { GroupCommit, type WriteConnection } from "./group-commit.ts";
import { migrationSets } from "./migrations.ts";
import { WalSync } from "./wal-sync.ts";

// busy_timeout first: switching to WAL takes a lock that another process
// opening the same new file at the same moment may hold. synchronous = NORMAL:
// COMMIT writes the WAL without syncing it; the store syncs it off the event
// loop before a write is reported committed (wal-sync.ts), so a reported
// commit is as durable as with FULL.
const PRAGMAS = [
  "PRAGMA busy_timeout = 5000",
  "PRAGMA journal_mode = WAL",
  "PRAGMA synchronous = NORMAL",
  "PRAGMA foreign_keys = ON",
];

function openConnection(path: string): Database {
  const sqlite = new Database(path, { create: true, readwrite: true, strict: true });
  for (const p of PRAGMAS) sqlite.run(p);
  // A file system that refuses WAL (no shared memory: some network file systems) leaves
  // the rollback journal, where nothing but COMMIT itself can make a commit durable.
  if (!inWal(sqlite)) sqlite.run("PRAGMA synchronous = FULL");
  return reusingStatements(sqlite);
}

function inWal(db: Database): boolean {
  return (db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode === "wal";
}

const BOUND_LIMIT = / limit \?( offset \?)?$/i;

/**
 * The SQL with a trailing bare `limit ?` written as `limit (? + 0)`. SQLite
 * (3.47 and later) compiles a statement whose LIMIT is a bare bound parameter
 * again at every bind, to plan with its value: 2.7 µs more a run when warm,
 * about 20 µs more after another connection's commit emptied the reader's
 * page cache (the outbox relay's read of 20 rows: 46 against 24 µs), and
 * drizzle binds every limit. As an expression the LIMIT is compiled once;
 * it still ends an index scan or a sort at that many rows.
 *
 * @example
 * limitCompiledOnce("select * from t order by id limit ?"); // "select * from t order by id limit (? + 0)"
 */
export function limitCompiledOnce(sql: string): string {
  return sql.replace(BOUND_LIMIT, " limit (? + 0)$1");
}

/** Distinct SQL texts whose compiled statement a connection keeps (drizzle's queries are a few dozen). */
const MAX_STATEMENTS = 512;

/**
 * drizzle compiles every statement it runs (`prepare`), each time: on a POST
 * that was about a tenth of the service's CPU. The same SQL text now gets the
 * same compiled statement (its bare LIMIT made an expression: limitCompiledOnce).
 * That is safe because bun:sqlite runs a statement
 * to its end in one synchronous call, so no two uses overlap; statements are
 * kept until the connection closes, up to MAX_STATEMENTS texts.
 */
function reusingStatements(db: Database): Database {
  const compiled = new Map<string, Statement>();
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string, ...rest: unknown[]) => {
    if (rest.length > 0) return prepare(sql, ...(rest as []));
    let statement = compiled.get(sql);
    if (!statement) {
      statement = prepare(limitCompiledOnce(sql));
      if (compiled.size < MAX_STATEMENTS) compiled.set(sql, statement);
    }
    return statement;
  }) as Database["prepare"];
  return db;
}

export async function openBunSqliteStore<S extends Record<string, unknown>>(
  path: string,
  options: StoreOptions<S>,
): Promise<DriverStore<S>> {
  // Two connections: reads never see another request's uncommitted writes, and
  // write transactions are serialised on their own connection.
  const writer = await withStartupRetry("opening the database", options.logger, () => openConnection(path));
  const reader = await withStartupRetry("opening the database", options.logger, () => openConnection(path));
  const writeDb = drizzle({ client: writer, schema: options.schema });
  const readDb = drizzle({ client: reader, schema: options.schema });
  for (const set of migrationSets(options.migrationsFolder)) {
    await withStartupRetry("migration", options.logger, () => migrate(writeDb, set));
  }
  // From here on the writer never waits inside SQLite: a synchronous busy wait
  // would stall this process's event loop while another process writes.
  writer.run("PRAGMA busy_timeout = 0");
  // Concurrent writes share one transaction (group-commit.ts), and commits made while the WAL
  // is being synced share the next sync (wal-sync.ts).
  // The reader never writes, so its data_version moves with every commit: the writer's and
  // other processes' alike.
  const dataVersion = inWal(writer)
    ? reader.query<{ data_version: number }, []>("PRAGMA data_version")
    : null;
  const wal = dataVersion ? new WalSync(path, () => dataVersion.get()?.data_version ?? -1) : null;
  wal?.syncDirectory();
  const control = compiledControl(writer);
  const commits = new GroupCommit(control, writeDb as unknown as Db<S>, {
    begin: () => beginImmediate(control),
    ...(wal ? { durable: () => wal.sync() } : {}),
  });
  let closing: Promise<void> | null = null;
  return {
    db: readDb as unknown as Db<S>,
    driver: "bun-sqlite",
    write<T>(fn: (tx: Db<S>) => Promise<T> | T): Promise<T> {
      if (closing) return Promise.reject(new Error("The store is closed."));
      // After a failed sync nothing more is written: what reaches the disk is unknown.
      if (wal?.failure) return Promise.reject(wal.failure);
      return commits.write(fn);
    },
    // Covers what other instances sharing the file committed, too (data_version moves for them).
    synced: () => wal?.covered() ?? Promise.resolve(),
    close() {
      closing ??= commits.idle().then(async () => {
        await wal?.close();
        dataVersion?.finalize();
        reader.close();
        writer.close();
      });
      return closing;
    },
  };
}

/**
 * The writer as group commit drives it: `BEGIN IMMEDIATE`, `SAVEPOINT`,
 * `RELEASE`, `COMMIT` and the rest run as statements compiled once (reusingStatements), not parsed
 * again at every write as `Database.run(sql)` does.
 */
function compiledControl(db: Database): WriteConnection {
  return {
    run: (sql: string) => db.prepare(sql).run(),
    get inTransaction() {
      return db.inTransaction;
    },
  };
}

/** How long a transaction waits for another process's write lock before failing. */
const LOCK_WAIT_MS = 5000;

/**
 * `BEGIN IMMEDIATE`, retried asynchronously while another process holds the
 * write lock, so the event loop keeps serving meanwhile.
 */
async function beginImmediate(db: WriteConnection): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      db.run("BEGIN IMMEDIATE");
      return;
    } catch (err) {
      const busy =
        (err as { code?: string }).code === "SQLITE_BUSY" || /database is locked/i.test(String(err));
      if (!busy || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(25, 1 + attempt) * (0.5 + Math.random())));
    }
  }
}
