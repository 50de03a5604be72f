/**
 * Reads of the plans table. The ones every request makes are prepared once
 * per store: building a query with drizzle costs ~75 µs of CPU per request on
 * bun:sqlite, more than running it. Reads inside `store.write` go through the
 * transaction's `tx` instead, because a statement prepared on `store.db`
 * runs on the reader connection (bun:sqlite) or outside the transaction
 * (libSQL); both kinds share the owner check below.
 */
import type { Db } from "@runnerly/kit";
import { and, desc, eq, type Placeholder, type SQL, sql } from "drizzle-orm";
import * as schema from "./db/schema.ts";

type Schema = typeof schema;
const { planReports, plans } = schema;

/** The object-level check: a plan exists for a caller only if it is theirs. */
export function ownedPlan(owner: string | Placeholder, id: string | Placeholder): SQL {
  return and(eq(plans.id, id), eq(plans.owner, owner))!;
}

/** The caller's plan as a transaction sees it, or undefined. */
export async function ownedPlanIn(tx: Db<Schema>, owner: string, id: string) {
  return tx.select().from(plans).where(ownedPlan(owner, id)).get();
}

/** The per-request reads of a store, prepared once against its `store.db`. */
export function preparePlanReads(db: Db<Schema>) {
  const owned = db
    .select()
    .from(plans)
    .where(ownedPlan(sql.placeholder("owner"), sql.placeholder("id")))
    .prepare();
  const latest = db
    .select()
    .from(plans)
    .where(eq(plans.owner, sql.placeholder("owner")))
    .orderBy(desc(plans.createdAt))
    .limit(100)
    .prepare();
  const report = db
    .select()
    .from(planReports)
    .where(
      and(eq(planReports.planId, sql.placeholder("id")), eq(planReports.owner, sql.placeholder("owner"))),
    )
    .prepare();
  return {
    /** The caller's plan, or undefined when there is none or it is another runner's. */
    ownedPlan: async (owner: string, id: string) => owned.get({ owner, id }),
    /** The owner's latest 100 plans, newest first. */
    latest: async (owner: string) => latest.all({ owner }),
    /** The season report of the caller's plan, or undefined when none was asked for or it is another runner's. */
    report: async (owner: string, id: string) => report.get({ owner, id }),
  };
}

export type PlanReads = ReturnType<typeof preparePlanReads>;
