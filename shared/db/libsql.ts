/** @libsql/client adapter of the store (libSQL servers, or `file:` with DATABASE_DRIVER=libsql). */
import { type Client, createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { type Db, type DriverStore, type StoreOptions, withStartupRetry } from "./driver.ts";
import { migrationSets } from "./migrations.ts";
import { Mutex } from "./mutex.ts";
import { redactUrl, type StoreTarget } from "./target.ts";

/** How long a `file:` connection waits for another process's lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

export async function openLibsqlStore<S extends Record<string, unknown>>(
  options: StoreOptions<S>,
  target: StoreTarget,
): Promise<DriverStore<S>> {
  if (target.kind !== "file") {
    const client = createClient({
      url: target.url,
      ...(target.authToken ? { authToken: target.authToken } : {}),
    });
    await reachServer(client, target.url, options.connectTimeoutMs ?? 10_000);
    const db = drizzle({ client, schema: options.schema });
    for (const set of migrationSets(options.migrationsFolder)) {
      await withStartupRetry("migration", options.logger, () => migrate(db, set));
    }
    return transactional(client, db, db);
  }
  // A file gets two clients, as bun-sqlite.ts has two connections. The client keeps a pool of
  // connections and PRAGMAs are per connection, so writes get a client of exactly one
  // connection, set up below, that only `write` uses (one transaction at a time). Reads get a
  // pool of their own: they never see another request's uncommitted writes, and never wait for
  // a transaction's connection. `timeout` is the busy timeout of every connection a client opens.
  const writer = createClient({ url: target.url, timeout: BUSY_TIMEOUT_MS, concurrency: 1 });
  const setUp = async () => {
    await withStartupRetry("enabling WAL", options.logger, () => writer.execute("PRAGMA journal_mode = WAL"));
    await writer.execute("PRAGMA synchronous = FULL");
    await writer.execute("PRAGMA foreign_keys = ON");
  };
  await setUp();
  const writeDb = drizzle({ client: writer, schema: options.schema });
  // Each set of migrations (the kit's, then the service's) runs in one transaction: of
  // instances starting at once, the loser's CREATE fails and rolls back, and its retry
  // finds them applied. The retry reopens the connection: a loser's failed statement can
  // keep it on the snapshot from before the winner's commit (SQLITE_BUSY_SNAPSHOT at
  // every later try on the same connection).
  for (const set of migrationSets(options.migrationsFolder)) {
    await withStartupRetry("migration", options.logger, async () => {
      try {
        return await migrate(writeDb, set);
      } catch (err) {
        await writer.reconnect();
        await setUp();
        throw err;
      }
    });
  }
  const reader = createClient({ url: target.url, timeout: BUSY_TIMEOUT_MS });
  const readDb = drizzle({ client: reader, schema: options.schema });
  const store = transactional(writer, writeDb, readDb);
  return {
    ...store,
    async close() {
      await store.close();
      reader.close();
    },
  };
}

/** The store over a client: transactions serialised in this process, reads on `readDb`. */
function transactional<S extends Record<string, unknown>>(
  client: Client,
  writeDb: ReturnType<typeof drizzle<S>>,
  readDb: ReturnType<typeof drizzle<S>>,
): DriverStore<S> {
  const lock = new Mutex();
  return {
    db: readDb as unknown as Db<S>,
    driver: "libsql",
    write<T>(fn: (tx: Db<S>) => Promise<T> | T): Promise<T> {
      return lock.run(() =>
        writeDb.transaction(async (tx) => fn(tx as unknown as Db<S>), { behavior: "immediate" }),
      );
    },
    // A commit here is durable when it returns (the server's, or synchronous = FULL on a file).
    synced: () => Promise.resolve(),
    async close() {
      await lock.run(async () => client.close());
    },
  };
}

/**
 * One query to a libSQL server before anything else, bounded in time, so that
 * an unreachable server or a refused token stops start-up with a message
 * saying which server and what to check, instead of a driver error from
 * inside the migrations. The client is closed when it fails.
 */
async function reachServer(client: Client, url: string, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([client.execute("SELECT 1"), timeout]);
  } catch (err) {
    client.close();
    const why = err instanceof Error ? err.message : String(err);
    const denied = /\b(401|403)\b|unauthori[sz]ed|forbidden|auth/i.test(why);
    throw new Error(
      `cannot reach the libSQL server at ${redactUrl(url)} (DATABASE_URL): ${why}${/[.?!]$/.test(why) ? "" : "."} ` +
        (denied
          ? "The server refused the credentials: check DATABASE_AUTH_TOKEN."
          : "Check that the server is running and reachable from here (host, port, TLS: " +
            "libsql:// and https:// use TLS, http:// does not), and DATABASE_AUTH_TOKEN if it requires one."),
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
  }
}
