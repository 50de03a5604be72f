/** @libsql/client adapter of the store (libSQL servers, or `file:` with DATABASE_DRIVER=libsql). */
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { type Db, type DriverStore, type StoreOptions, withStartupRetry } from "./index.ts";
import { Mutex } from "./mutex.ts";

export async function openLibsqlStore<S extends Record<string, unknown>>(
  options: StoreOptions<S>,
): Promise<DriverStore<S>> {
  const client = createClient({
    url: options.url,
    ...(options.authToken ? { authToken: options.authToken } : {}),
  });
  if (options.url.startsWith("file:")) {
    await client.execute("PRAGMA busy_timeout = 5000");
    await withStartupRetry("enabling WAL", options.logger, () => client.execute("PRAGMA journal_mode = WAL"));
    await client.execute("PRAGMA synchronous = FULL");
    await client.execute("PRAGMA foreign_keys = ON");
  }
  const db = drizzle({ client, schema: options.schema });
  await withStartupRetry("migration", options.logger, () =>
    migrate(db, { migrationsFolder: options.migrationsFolder }),
  );
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
