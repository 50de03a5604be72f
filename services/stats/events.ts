/**
 * How stats listens to runs: one consumer keeps the projection of runs and
 * the weekly and monthly totals, applying each run event exactly once.
 */
import { type Db, defineConsumer } from "@runnerly/kit";
import { type RunEventData, runDeleted, runLogged, runUpdated } from "@runnerly/runs/contract.ts";
import { and, eq, sql } from "drizzle-orm";
import * as schema from "./db/schema.ts";
import { BEST_DISTANCES, bestEffort, dayOf, isoWeek, monthOf } from "./totals.ts";

type Schema = typeof schema;
const { runsSeen, totals } = schema;

type Seen = typeof runsSeen.$inferSelect;

/** Adds (sign 1) or removes (sign -1) one run's share of its week's and month's totals. */
async function applyTotals(
  tx: Db<Schema>,
  run: Pick<Seen, "user" | "distanceM" | "durationS" | "startedAt">,
  sign: 1 | -1,
) {
  for (const [period, key] of [
    ["week", isoWeek(run.startedAt)],
    ["month", monthOf(run.startedAt)],
  ] as const) {
    await tx
      .insert(totals)
      .values({
        user: run.user,
        period,
        key,
        distanceM: sign * run.distanceM,
        durationS: sign * run.durationS,
        runs: sign,
      })
      .onConflictDoUpdate({
        target: [totals.user, totals.period, totals.key],
        set: {
          distanceM: sql`${totals.distanceM} + ${sign * run.distanceM}`,
          durationS: sql`${totals.durationS} + ${sign * run.durationS}`,
          runs: sql`${totals.runs} + ${sign}`,
        },
      })
      .run();
  }
  // A period whose last run went away disappears instead of showing zeros.
  await tx
    .delete(totals)
    .where(and(eq(totals.user, run.user), sql`${totals.runs} <= 0`))
    .run();
}

async function upsertRun(tx: Db<Schema>, data: RunEventData) {
  const previous = await tx.select().from(runsSeen).where(eq(runsSeen.runId, data.runId)).get();
  if (previous) await applyTotals(tx, previous, -1);
  const row = {
    runId: data.runId,
    user: data.user,
    distanceM: data.distanceM,
    durationS: data.durationS,
    startedAt: data.startedAt,
    day: dayOf(data.startedAt),
    best5k: bestEffort(data, BEST_DISTANCES["5k"]),
    best10k: bestEffort(data, BEST_DISTANCES["10k"]),
    bestHalf: bestEffort(data, BEST_DISTANCES.half),
    bestMarathon: bestEffort(data, BEST_DISTANCES.marathon),
  };
  await tx.insert(runsSeen).values(row).onConflictDoUpdate({ target: runsSeen.runId, set: row }).run();
  await applyTotals(tx, row, 1);
}

/** `stats-update-totals`: keeps totals in step with every logged, changed and deleted run. */
export const updateTotals = defineConsumer<Schema>({
  name: "stats-update-totals",
  events: [runLogged, runUpdated, runDeleted],
  async handle(tx, event) {
    if (event.type === runDeleted.type) {
      const { runId } = event.data as { runId: string };
      const previous = await tx.select().from(runsSeen).where(eq(runsSeen.runId, runId)).get();
      if (!previous) return;
      await applyTotals(tx, previous, -1);
      await tx.delete(runsSeen).where(eq(runsSeen.runId, runId)).run();
      return;
    }
    await upsertRun(tx, event.data as RunEventData);
  },
  async reset(tx) {
    await tx.delete(totals).run();
    await tx.delete(runsSeen).run();
  },
});
