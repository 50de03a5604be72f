/**
 * Reads of the runs table. The ones every request makes are prepared once per
 * store: building a query with drizzle costs ~75 µs of CPU per request on
 * bun:sqlite, more than running it. Reads inside `store.write` go through the
 * transaction's `tx` instead, because a statement prepared on `store.db`
 * runs on the reader connection (bun:sqlite) or outside the transaction
 * (libSQL); both kinds share the owner check below.
 */
import { type Db, preparedPer } from "@runnerly/kit";
import { and, desc, eq, lt, or, type Placeholder, type SQL, sql } from "drizzle-orm";
import * as schema from "./db/schema.ts";
import type { Cursor } from "./runs.ts";

type Schema = typeof schema;
const { runs } = schema;

/** The object-level check: a run exists for a caller only if it is theirs. */
export function ownedRun(owner: string | Placeholder, id: string | Placeholder): SQL {
  return and(eq(runs.id, id), eq(runs.owner, owner))!;
}

/** The caller's run as a transaction sees it, or undefined. */
export async function ownedRunIn(tx: Db<Schema>, owner: string, id: string) {
  return tx.select().from(runs).where(ownedRun(owner, id)).get();
}

export type PageOptions = { kind?: string | undefined; after: Cursor | null; limit: number };

/** The per-request reads of a store, prepared once against its `store.db`. */
export function prepareRunReads(db: Db<Schema>) {
  const owned = db
    .select()
    .from(runs)
    .where(ownedRun(sql.placeholder("owner"), sql.placeholder("id")))
    .prepare();
  // A statement per filter combination, so a page after a cursor keeps its index range.
  const first = { all: pageQuery(db, false, false), ofKind: pageQuery(db, true, false) };
  const next = { all: pageQuery(db, false, true), ofKind: pageQuery(db, true, true) };
  return {
    /** The caller's run, or undefined when there is none or it is another runner's. */
    ownedRun: async (owner: string, id: string) => owned.get({ owner, id }),
    /** Up to `limit` of the owner's runs, newest first (ties by id), after the cursor. */
    page: async (owner: string, { kind, after, limit }: PageOptions) =>
      (after ? next : first)[kind ? "ofKind" : "all"].all({
        owner,
        kind,
        afterStartedAt: after?.startedAt,
        afterId: after?.id,
        limit,
      }),
  };
}

export type RunReads = ReturnType<typeof prepareRunReads>;

function pageQuery(db: Db<Schema>, byKind: boolean, afterCursor: boolean) {
  const filters = [eq(runs.owner, sql.placeholder("owner"))];
  if (byKind) filters.push(eq(runs.kind, sql.placeholder("kind")));
  if (afterCursor) {
    const startedAt = sql.placeholder("afterStartedAt");
    filters.push(
      or(
        lt(runs.startedAt, startedAt),
        and(eq(runs.startedAt, startedAt), lt(runs.id, sql.placeholder("afterId"))),
      )!,
    );
  }
  return db
    .select()
    .from(runs)
    .where(and(...filters))
    .orderBy(desc(runs.startedAt), desc(runs.id))
    .limit(sql.placeholder("limit"))
    .prepare();
}

const p = sql.placeholder;

/**
 * Writes a new run in the caller's transaction; compiled once per store
 * (the kit's `preparedPer`), as every POST runs it.
 *
 * @example
 * await store.write((tx) => addRun(tx).run(row));
 */
export const addRun = preparedPer((tx: Db<Schema>) =>
  tx
    .insert(runs)
    .values({
      id: p("id"),
      owner: p("owner"),
      distanceM: p("distanceM"),
      durationS: p("durationS"),
      startedAt: p("startedAt"),
      kind: p("kind"),
      notes: p("notes"),
      source: p("source"),
      elevationGainM: p("elevationGainM"),
      splits: p("splits"),
      createdAt: p("createdAt"),
      updatedAt: p("updatedAt"),
    })
    .prepare(),
);
