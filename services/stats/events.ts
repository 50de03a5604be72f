/**
 * How stats listens to runs: one consumer keeps the projection of runs and
 * the weekly and monthly totals, applying each run event exactly once.
 */
import { type Db, defineConsumer, preparedPer } from "@runnerly/kit";
import { type RunEventData, runDeleted, runLogged, runUpdated } from "@runnerly/runs/contract.ts";
import { and, eq, sql } from "drizzle-orm";
import * as schema from "./db/schema.ts";
import { BEST_DISTANCES, bestEffort, dayOf, isoWeek, monthOf } from "./totals.ts";

type Schema = typeof schema;
const { runsSeen, totals } = schema;

type Seen = typeof runsSeen.$inferSelect;

const p = sql.placeholder;

// Run for every event: compiled once per store (the kit's preparedPer), not built by drizzle each time.
const seenRun = preparedPer((tx: Db<Schema>) =>
  tx
    .select()
    .from(runsSeen)
    .where(eq(runsSeen.runId, p("runId")))
    .prepare(),
);
const forgetRun = preparedPer((tx: Db<Schema>) =>
  tx
    .delete(runsSeen)
    .where(eq(runsSeen.runId, p("runId")))
    .prepare(),
);
const seenColumns = {
  runId: p("runId"),
  user: p("user"),
  distanceM: p("distanceM"),
  durationS: p("durationS"),
  startedAt: p("startedAt"),
  day: p("day"),
  best5k: p("best5k"),
  best10k: p("best10k"),
  bestHalf: p("bestHalf"),
  bestMarathon: p("bestMarathon"),
};
// On a second event of the same run, every column takes the new value (SQLite's `excluded` row).
const seenUpdate = Object.fromEntries(
  Object.keys(seenColumns).map((k) => [
    k,
    sql.raw(`excluded."${runsSeen[k as keyof typeof seenColumns].name}"`),
  ]),
);
const saveRun = preparedPer((tx: Db<Schema>) =>
  tx
    .insert(runsSeen)
    .values(seenColumns)
    .onConflictDoUpdate({ target: runsSeen.runId, set: seenUpdate })
    .prepare(),
);
const addToTotal = preparedPer((tx: Db<Schema>) =>
  tx
    .insert(totals)
    .values({
      user: p("user"),
      period: p("period"),
      key: p("key"),
      distanceM: p("distanceM"),
      durationS: p("durationS"),
      runs: p("runs"),
    })
    .onConflictDoUpdate({
      target: [totals.user, totals.period, totals.key],
      set: {
        distanceM: sql`${totals.distanceM} + ${p("distanceM")}`,
        durationS: sql`${totals.durationS} + ${p("durationS")}`,
        runs: sql`${totals.runs} + ${p("runs")}`,
      },
    })
    .prepare(),
);
const dropEmptyTotals = preparedPer((tx: Db<Schema>) =>
  tx
    .delete(totals)
    .where(and(eq(totals.user, p("user")), sql`${totals.runs} <= 0`))
    .prepare(),
);

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
    await addToTotal(tx).run({
      user: run.user,
      period,
      key,
      distanceM: sign * run.distanceM,
      durationS: sign * run.durationS,
      runs: sign,
    });
  }
  // A period whose last run went away disappears instead of showing zeros.
  await dropEmptyTotals(tx).run({ user: run.user });
}

async function upsertRun(tx: Db<Schema>, data: RunEventData) {
  const previous = await seenRun(tx).get({ runId: data.runId });
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
  await saveRun(tx).run(row);
  await applyTotals(tx, row, 1);
}

/** `stats-update-totals`: keeps totals in step with every logged, changed and deleted run. */
export const updateTotals = defineConsumer<Schema>({
  name: "stats-update-totals",
  events: [runLogged, runUpdated, runDeleted],
  async handle(tx, event) {
    if (event.type === runDeleted.type) {
      const { runId } = event.data as { runId: string };
      const previous = await seenRun(tx).get({ runId });
      if (!previous) return;
      await applyTotals(tx, previous, -1);
      await forgetRun(tx).run({ runId });
      return;
    }
    await upsertRun(tx, event.data as RunEventData);
  },
  async reset(tx) {
    await tx.delete(totals).run();
    await tx.delete(runsSeen).run();
  },
});
