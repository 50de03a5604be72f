import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { outbox } from "../events/tables.ts";
import { silentLogger } from "../log/logger.ts";
import { idempotencyKeys } from "../service/idempotency.ts";
import { startService } from "../service/index.ts";
import * as schema from "../testing/fixture/schema.ts";
import { fixtureService } from "../testing/fixture/service.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { waitFor } from "../testing/wait.ts";
import { openStore } from "./index.ts";
import { KIT_MIGRATIONS_FOLDER, KIT_MIGRATIONS_TABLE } from "./migrations.ts";

setDefaultTimeout(30_000);

const dir = mkdtempSync(join(tmpdir(), "runnerly-kit-migrations-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const migrationsFolder = new URL("../testing/fixture/drizzle", import.meta.url).pathname;
let files = 0;
const newPath = () => join(dir, `db-${++files}.sqlite`);

/**
 * The kit's tables as the kit created them before it had migrations: these
 * statements ran at every start, after the service's migrations.
 */
const OLD_KIT_DDL = [
  `CREATE TABLE IF NOT EXISTS _mesh_idempotency (
  scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
  headers TEXT NOT NULL, body BLOB NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (scope, key))`,
  `CREATE TABLE IF NOT EXISTS _mesh_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, subject TEXT NOT NULL,
    aggregate TEXT NOT NULL, body TEXT NOT NULL, headers TEXT NOT NULL, created_at INTEGER NOT NULL, sent_at INTEGER)`,
  "CREATE INDEX IF NOT EXISTS _mesh_outbox_unsent ON _mesh_outbox (seq) WHERE sent_at IS NULL",
  "CREATE TABLE IF NOT EXISTS _mesh_relay_lease (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until INTEGER NOT NULL)",
  `CREATE TABLE IF NOT EXISTS _mesh_inbox (
    consumer TEXT NOT NULL, event_id TEXT NOT NULL, applied_at INTEGER NOT NULL, PRIMARY KEY (consumer, event_id))`,
  `CREATE TABLE IF NOT EXISTS _mesh_dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT, consumer TEXT NOT NULL, event_id TEXT NOT NULL, subject TEXT NOT NULL,
    body TEXT NOT NULL, error TEXT NOT NULL, deliveries INTEGER NOT NULL, failed_at INTEGER NOT NULL, replayed_at INTEGER)`,
];

const SUBJECT = "events.fixture.item.added";

/** The kit's tables of the days before it had migrations. */
const OLD_KIT_TABLES = [
  "_mesh_dead_letters",
  "_mesh_idempotency",
  "_mesh_inbox",
  "_mesh_outbox",
  "_mesh_relay_lease",
];
/** The kit's tables today: the old ones and those later migrations added. */
const KIT_TABLES = [...OLD_KIT_TABLES, "_mesh_tasks_sent", "_mesh_tasks_worked"].sort();

/**
 * A database as the code before kit migrations left it: the service's
 * migrations in `__drizzle_migrations`, the kit's tables from OLD_KIT_DDL,
 * and rows in every one of them.
 */
function oldDatabase(path: string): void {
  const db = new Database(path, { create: true, strict: true });
  db.run("PRAGMA journal_mode = WAL");
  migrate(drizzle({ client: db }), { migrationsFolder });
  for (const ddl of OLD_KIT_DDL) db.run(ddl);
  db.run("INSERT INTO items (owner, name, qty) VALUES ('ann', 'shoes', 2), ('ann', 'socks', 3)");
  // The tally consumer's projection of the first event, applied before the upgrade.
  db.run("INSERT INTO tallies (owner, total, events) VALUES ('ann', 2, 1)");
  const event = db.prepare(
    "INSERT INTO _mesh_outbox (event_id, subject, aggregate, body, headers, created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const added = (id: string, item: number, qty: number) =>
    JSON.stringify({
      id,
      type: "item.added",
      version: 1,
      occurredAt: new Date(1_700_000_000_000 + item * 1000).toISOString(),
      data: { id: item, owner: "ann", qty },
    });
  const traced = '{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}';
  event.run("ev-1", SUBJECT, "1", added("ev-1", 1, 2), "{}", 1_700_000_001_000, 1_700_000_001_500);
  // Committed, not yet published when the old code stopped.
  event.run("ev-2", SUBJECT, "2", added("ev-2", 2, 3), traced, 1_700_000_002_000, null);
  event.run("ev-3", SUBJECT, "3", added("ev-3", 3, 4), "{}", 1_700_000_003_000, 1_700_000_003_500);
  // A sent event pruned: the next seq must still come after it.
  db.run("DELETE FROM _mesh_outbox WHERE event_id = 'ev-3'");
  db.run(
    "INSERT INTO _mesh_relay_lease (name, owner, until) VALUES ('outbox', 'fixture-old', 1700000009000)",
  );
  const applied = db.prepare("INSERT INTO _mesh_inbox (consumer, event_id, applied_at) VALUES (?, ?, ?)");
  applied.run("fixture-tally-items", "ev-1", 1_700_000_001_900);
  applied.run("other-consumer", "ev-1", 1_700_000_001_950);
  db.prepare(
    "INSERT INTO _mesh_dead_letters (consumer, event_id, subject, body, error, deliveries, failed_at, replayed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  ).run(
    "fixture-tally-items",
    "ev-0",
    SUBJECT,
    added("ev-0", 0, 13),
    "unlucky number",
    3,
    1_700_000_000_900,
    null,
  );
  db.prepare(
    "INSERT INTO _mesh_idempotency (scope, key, fingerprint, status, headers, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  ).run(
    "ann /items",
    "key-1",
    "f00d",
    201,
    '[["content-type","application/json"]]',
    new Uint8Array([0, 255, 123, 125]),
    1_700_000_000_000,
  );
  db.close();
}

/** Every row of every kit table and of the service's tables, and the AUTOINCREMENT counters. */
function contents(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    const all = (table: string) => db.query(`SELECT * FROM ${table} ORDER BY 1, 2`).all();
    return {
      ...Object.fromEntries([...OLD_KIT_TABLES, "items", "tallies"].map((t) => [t, all(t)])),
      sqlite_sequence: all("sqlite_sequence"),
    };
  } finally {
    db.close();
  }
}

/** The CREATE statements of the kit's tables as the database holds them. */
function tableSql(path: string): Record<string, string> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name LIKE '\\_mesh\\_%' ESCAPE '\\'",
      )
      .all() as { name: string; sql: string }[];
    return Object.fromEntries(
      rows.filter((r) => r.name !== KIT_MIGRATIONS_TABLE).map((r) => [r.name, r.sql]),
    );
  } finally {
    db.close();
  }
}

/**
 * What a kit table is, whichever statement made it: its columns (name, type,
 * place in the primary key, NOT NULL outside the key), AUTOINCREMENT, and its
 * indexes by columns, uniqueness and partiality.
 */
function shape(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    return Object.fromEntries(
      KIT_TABLES.map((table) => {
        const columns = (
          db.query(`PRAGMA table_info(${table})`).all() as {
            name: string;
            type: string;
            notnull: number;
            pk: number;
          }[]
        ).map((c) => ({
          name: c.name,
          type: c.type.toUpperCase(),
          pk: c.pk,
          notnull: c.pk ? null : c.notnull,
        }));
        const indexes = (
          db.query(`PRAGMA index_list(${table})`).all() as { name: string; unique: number; partial: number }[]
        ).map((i) => {
          const on = (db.query(`PRAGMA index_info(${i.name})`).all() as { name: string }[]).map(
            (c) => c.name,
          );
          return `${i.unique ? "unique " : ""}(${on.join(", ")})${i.partial ? ` ${i.name} partial` : ""}`;
        });
        const sql = (db.query("SELECT sql FROM sqlite_master WHERE name = ?").get(table) as { sql: string })
          .sql;
        return [
          table,
          { columns, autoincrement: /AUTOINCREMENT/i.test(sql), indexes: [...new Set(indexes)].sort() },
        ];
      }),
    );
  } finally {
    db.close();
  }
}

function recorded(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    return {
      kit: db.query(`SELECT hash, created_at FROM ${KIT_MIGRATIONS_TABLE} ORDER BY created_at`).all(),
      service: db.query("SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at").all(),
    };
  } finally {
    db.close();
  }
}

const kitMigrations = readMigrationFiles({ migrationsFolder: KIT_MIGRATIONS_FOLDER }).map((m) => ({
  hash: m.hash,
  created_at: m.folderMillis,
}));
const serviceMigrations = readMigrationFiles({ migrationsFolder }).map((m) => ({
  hash: m.hash,
  created_at: m.folderMillis,
}));

/**
 * Starts `count` processes that each open the store on `url` at the same
 * moment: each loads and says "ready", and all are told to go together.
 */
async function openAtOnce(url: string, driver: string, count: number): Promise<number[]> {
  const script = new URL("./testdata/open-at-signal.ts", import.meta.url).pathname;
  const children = Array.from({ length: count }, () =>
    Bun.spawn([process.execPath, script, url, driver], { stdin: "pipe", stdout: "pipe", stderr: "inherit" }),
  );
  await Promise.all(
    children.map(async (child) => {
      const reader = child.stdout.getReader();
      let seen = "";
      while (!seen.includes("ready\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`a child exited before it was ready: ${seen}`);
        seen += new TextDecoder().decode(value);
      }
      reader.releaseLock();
    }),
  );
  for (const child of children) {
    child.stdin.write("go\n");
    await child.stdin.flush();
  }
  return Promise.all(children.map((child) => child.exited));
}

describe("the kit's tables come from the kit's own migrations", () => {
  test("the first kit migration, written by drizzle-kit from the kit's schema, keeps today's tables as they are", async () => {
    // Checked against the fixture above: a table from today's statements must not be replaced.
    const sql = readMigrationFiles({ migrationsFolder: KIT_MIGRATIONS_FOLDER })[0]!.sql.join("\n");
    for (const table of OLD_KIT_TABLES) expect(sql).toContain(`CREATE TABLE IF NOT EXISTS \`${table}\``);
    expect(sql).toContain("CREATE INDEX IF NOT EXISTS `_mesh_outbox_unsent`");
  });

  for (const driver of ["bun-sqlite", "libsql"] as const) {
    describe(`on ${driver}`, () => {
      const open = (path: string) =>
        openStore({ url: `file:${path}`, schema, migrationsFolder, driver, logger: silentLogger });

      test("a database from before kit migrations upgrades in place and loses no row", async () => {
        const path = newPath();
        oldDatabase(path);
        const before = contents(path);
        const tablesBefore = tableSql(path);
        expect(Object.keys(tablesBefore).sort()).toEqual(OLD_KIT_TABLES);

        const store = await open(path);
        await store.close();
        expect(contents(path)).toEqual(before);
        // Not rebuilt: each old table is still the one the old statement made; the new ones are added.
        const tablesAfter = tableSql(path);
        expect(Object.keys(tablesAfter).sort()).toEqual(KIT_TABLES);
        for (const [name, ddl] of Object.entries(tablesBefore)) expect(tablesAfter[name]).toBe(ddl);
        expect(recorded(path)).toEqual({ kit: kitMigrations, service: serviceMigrations });

        // Opened again: nothing more to apply, nothing recorded twice.
        const again = await open(path);
        expect(recorded(path)).toEqual({ kit: kitMigrations, service: serviceMigrations });
        // The kit's code works on the upgraded tables: a new event comes after the pruned one,
        // an event id is still unique, the recorded response reads back byte for byte.
        await again.write((tx) =>
          tx.insert(outbox).values({
            eventId: "ev-4",
            subject: SUBJECT,
            aggregate: "item-4",
            body: "{}",
            headers: "[]",
            createdAt: 1_700_000_003_000,
          }),
        );
        const fresh = await again.db.select().from(outbox).where(eq(outbox.eventId, "ev-4")).get();
        expect(fresh?.seq).toBe(4);
        const duplicate = again.write((tx) =>
          tx.insert(outbox).values({
            eventId: "ev-1",
            subject: SUBJECT,
            aggregate: "item-1",
            body: "{}",
            headers: "[]",
            createdAt: 1,
          }),
        );
        const refused = await duplicate.then(
          () => null,
          (err: Error) => `${err.message} ${String(err.cause)}`,
        );
        expect(refused).toMatch(/UNIQUE constraint failed: _mesh_outbox\.event_id/);
        const kept = await again.db.select().from(idempotencyKeys).get();
        expect([...new Uint8Array(kept?.body ?? [])]).toEqual([0, 255, 123, 125]);
        await again.close();
      });

      test("a new database gets the same tables, keys and indexes as an upgraded one", async () => {
        const upgraded = newPath();
        oldDatabase(upgraded);
        await (await open(upgraded)).close();
        const created = newPath();
        await (await open(created)).close();
        expect(shape(created)).toEqual(shape(upgraded));
        expect(recorded(created)).toEqual({ kit: kitMigrations, service: serviceMigrations });
        expect(contents(created)._mesh_outbox).toEqual([]);
      });

      test("two instances opening one new file at once both start, and each migration is recorded once", async () => {
        const path = newPath();
        expect(await openAtOnce(`file:${path}`, driver, 2)).toEqual([0, 0]);
        expect(recorded(path)).toEqual({ kit: kitMigrations, service: serviceMigrations });
        expect(Object.keys(tableSql(path)).sort()).toEqual(KIT_TABLES);
      });

      test("two instances upgrading one old file at once both start and lose no row", async () => {
        const path = newPath();
        oldDatabase(path);
        const before = contents(path);
        expect(await openAtOnce(`file:${path}`, driver, 2)).toEqual([0, 0]);
        expect(contents(path)).toEqual(before);
        expect(recorded(path)).toEqual({ kit: kitMigrations, service: serviceMigrations });
      });
    });
  }
});

describe("a service started on a database from before kit migrations", () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await NatsServer.start();
  });
  afterAll(() => nats?.stop());

  test("keeps every row, publishes the event left unsent and its consumer applies it once", async () => {
    const dataDir = mkdtempSync(join(dir, "service-"));
    const path = join(dataDir, "fixture.db");
    oldDatabase(path);
    const before = contents(path);
    const service = await startService(fixtureService("fixture", "1.0.0", { consume: true }), {
      env: { NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: "silent" },
      logger: silentLogger,
    });
    const tally = () => {
      const db = new Database(path, { readonly: true });
      try {
        return db.query("SELECT total, events FROM tallies WHERE owner = 'ann'").get() as {
          total: number;
          events: number;
        };
      } finally {
        db.close();
      }
    };
    try {
      // ev-2 was committed but unsent: the relay publishes it and the tally consumer applies it.
      await waitFor(() => tally().events === 2, { timeoutMs: 10_000, what: "the unsent event applied" });
    } finally {
      await service.stop();
    }
    expect(tally()).toEqual({ total: 5, events: 2 });
    const after = contents(path);
    for (const table of ["_mesh_dead_letters", "_mesh_idempotency", "items"]) {
      expect(after[table]).toEqual(before[table]!);
    }
    for (const row of before._mesh_inbox!) expect(after._mesh_inbox).toContainEqual(row);
    expect(after._mesh_inbox).toContainEqual({
      consumer: "fixture-tally-items",
      event_id: "ev-2",
      applied_at: expect.any(Number),
    });
    expect(after._mesh_inbox).toHaveLength(before._mesh_inbox!.length + 1);
    const [sent, unsent] = before._mesh_outbox as { event_id: string; sent_at: number | null }[];
    expect(after._mesh_outbox).toEqual([sent, { ...unsent, sent_at: expect.any(Number) }]);
    // Only the unsent event went out; the one sent before the upgrade was not published again.
    const nc = await connect({ servers: nats.url });
    try {
      const stream = await (await jetstreamManager(nc)).streams.info("EVENTS_FIXTURE");
      expect(stream.state.messages).toBe(1);
    } finally {
      await nc.close();
    }
    expect(recorded(path)).toEqual({ kit: kitMigrations, service: serviceMigrations });
  });
});
