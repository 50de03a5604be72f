/**
 * The migrations a store gets at open: the kit's own first, then the
 * service's. The kit's tables (outbox, relay lease, inbox, dead letters,
 * idempotency keys: `shared/events/tables.ts`, `shared/service/idempotency.ts`)
 * have drizzle-kit migrations of their own in `shared/drizzle`, recorded in
 * `_mesh_migrations` so that they never mix with a service's
 * `__drizzle_migrations`. A service's drizzle schema must not declare them.
 */
import { fileURLToPath } from "node:url";

/** Folder of the kit's migrations (`bun run db:generate` in shared/ after changing its tables). */
export const KIT_MIGRATIONS_FOLDER = fileURLToPath(new URL("../drizzle", import.meta.url));

/** Where the kit records which of its migrations a database has. */
export const KIT_MIGRATIONS_TABLE = "_mesh_migrations";

/** What a driver's drizzle migrator is called with, in order. */
export type MigrationSet = { migrationsFolder: string; migrationsTable?: string };

/**
 * The kit's migrations, then the service's (in `__drizzle_migrations`, drizzle's default).
 *
 * @example
 * for (const set of migrationSets(options.migrationsFolder)) await migrate(db, set);
 */
export function migrationSets(serviceMigrationsFolder: string): MigrationSet[] {
  return [
    { migrationsFolder: KIT_MIGRATIONS_FOLDER, migrationsTable: KIT_MIGRATIONS_TABLE },
    { migrationsFolder: serviceMigrationsFolder },
  ];
}
