/** @libsql/client adapter of the store (libSQL servers, or `file:` with DATABASE_DRIVER=libsql). */
import { type Client, createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { type Db, type DriverStore, type StoreOptions, withStartupRetry } from "./driver.ts";
import { migrationSets } from "./migrations.ts";
import { Mutex } from "./mutex.ts";
import { redactUrl, type StoreTarget } from "./target.ts";

export async function openLibsqlStore<S extends Record<string, unknown>>(
  options: StoreOptions<S>,
  target: StoreTarget,
): Promise<DriverStore<S>> {
  const client = createClient({
    url: target.url,
    ...(target.kind === "remote" && target.authToken ? { authToken: target.authToken } : {}),
  });
  if (target.kind === "file") {
    await client.execute("PRAGMA busy_timeout = 5000");
    await withStartupRetry("enabling WAL", options.logger, () => client.execute("PRAGMA journal_mode = WAL"));
    await client.execute("PRAGMA synchronous = FULL");
    await client.execute("PRAGMA foreign_keys = ON");
  } else {
    await reachServer(client, target.url, options.connectTimeoutMs ?? 10_000);
  }
  const db = drizzle({ client, schema: options.schema });
  // Each set of migrations (the kit's, then the service's) runs in one transaction: of
  // instances starting at once, the loser's CREATE fails and rolls back, and its retry
  // finds them applied.
  for (const set of migrationSets(options.migrationsFolder)) {
    await withStartupRetry("migration", options.logger, () => migrate(db, set));
  }
  const lock = new Mutex();
  return {
    db: db as unknown as Db<S>,
    driver: "libsql",
    write<T>(fn: (tx: Db<S>) => Promise<T> | T): Promise<T> {
      return lock.run(() =>
        db.transaction(async (tx) => fn(tx as unknown as Db<S>), { behavior: "immediate" }),
      );
    },
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
