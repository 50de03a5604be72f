/**
 * What openStore and its two drivers (bun-sqlite.ts, libsql.ts) share: the
 * store's types and the retry of a start-up step that can lose a race with
 * another process. A module of its own so that index.ts, which loads a
 * driver, is imported by neither.
 */
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type { Logger } from "../log/index.ts";

/** The drizzle database type services write queries against (awaitable on every driver). */
export type Db<S extends Record<string, unknown> = Record<string, never>> = BaseSQLiteDatabase<
  "sync" | "async",
  unknown,
  S
>;

export type StoreOptions<S extends Record<string, unknown>> = {
  /** `file:<path>`, `libsql://…`, `http(s)://…` or `ws(s)://…`. */
  url: string;
  authToken?: string | undefined;
  schema: S;
  /** Folder of drizzle-kit migrations (with `meta/_journal.json`). */
  migrationsFolder: string;
  /** `auto` picks bun:sqlite for `file:` and @libsql/client otherwise. */
  driver?: "auto" | "bun-sqlite" | "libsql";
  logger: Logger;
  /** How long the first contact with a libSQL server may take before opening fails (10000 ms). */
  connectTimeoutMs?: number;
};

export interface Store<S extends Record<string, unknown>> {
  /** Queries outside a transaction. */
  readonly db: Db<S>;
  /** Which driver serves this store. */
  readonly driver: "bun-sqlite" | "libsql";
  /**
   * Runs `fn` in one write transaction and commits it, or rolls back if it throws.
   * Transactions of one process are serialised; other processes wait on the
   * SQLite lock (busy_timeout). A `write` called inside another `write` of the
   * same store (in the same async context) joins the outer transaction.
   */
  write<T>(fn: (tx: Db<S>) => Promise<T> | T): Promise<T>;
  /**
   * Runs `fn` once the current write transaction has committed (at once when
   * called outside one); dropped if it rolls back. E.g. waking the outbox relay.
   */
  afterCommit(fn: () => void): void;
  /**
   * Resolves once every transaction committed so far, by this process or
   * another one sharing the file, is durable. A read may see a commit shortly
   * before its write is reported committed (bun:sqlite syncs the WAL after
   * `COMMIT`, off the event loop); what sends on what it read, as the outbox
   * relay does, waits for this first.
   */
  synced(): Promise<void>;
  close(): Promise<void>;
}

/** What a driver returns; openStore adds `afterCommit` and nested writes. */
export type DriverStore<S extends Record<string, unknown>> = Omit<Store<S>, "afterCommit">;

/**
 * Retries an operation that can lose a race with another process starting on
 * the same file (two instances applying the same migration at once: the loser
 * fails, then sees the migration as applied on its next try).
 */
export async function withStartupRetry<T>(
  what: string,
  logger: Logger,
  fn: () => Promise<T> | T,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      // About 8 s in all: on a loaded machine the winner can hold the file's lock for seconds
      // (a loser then sees SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out).
      if (attempt >= 12) throw err;
      logger.warn({ err: String(err), attempt }, `${what} failed; retrying`);
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * attempt) + Math.random() * 100));
    }
  }
}
