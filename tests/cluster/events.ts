/**
 * Event checks of the cluster test: what the runs stream holds, and how far
 * stats lags behind runs while nodes die.
 */
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";

/** Live event counts from the services' SQLite files, for progress lines. */
export type EventCounts = {
  now(): { published: number; applied: number };
  close(): void;
};

/**
 * Counts, from the runs and stats SQLite files (read-only, beside the running
 * services), the run events published so far and those stats has applied.
 */
export function eventCounts(dir: string): EventCounts {
  const runsDb = openDb(dir, "runs");
  const statsDb = openDb(dir, "stats");
  const published = runsDb.query("SELECT COUNT(*) AS n FROM _mesh_outbox WHERE sent_at IS NOT NULL");
  const applied = statsDb.query("SELECT COUNT(*) AS n FROM _mesh_inbox");
  let closed = false;
  return {
    now: () =>
      closed
        ? { published: -1, applied: -1 }
        : {
            published: (published.get() as { n: number }).n,
            applied: (applied.get() as { n: number }).n,
          },
    close() {
      closed = true;
      runsDb.close();
      statsDb.close();
    },
  };
}

/** The largest and the 99th-percentile delay of one step, in ms. */
export type Delay = { max: number; p99: number };

/**
 * How long each run event waited, from the services' own records: in the
 * relay (committed → acknowledged by the stream: `sent_at − created_at` of
 * the runs outbox) and then for stats (published → applied: `applied_at` of
 * the stats inbox − `sent_at`). Call it once stats has applied everything.
 */
export function eventDelays(dir: string): { relay: Delay; stats: Delay } {
  const runsDb = openDb(dir, "runs");
  const statsDb = openDb(dir, "stats");
  const sent = runsDb
    .query("SELECT event_id AS id, created_at AS created, sent_at AS sent FROM _mesh_outbox")
    .all() as { id: string; created: number; sent: number | null }[];
  const applied = new Map(
    (
      statsDb
        .query(
          "SELECT event_id AS id, applied_at AS at FROM _mesh_inbox WHERE consumer = 'stats-update-totals'",
        )
        .all() as { id: string; at: number }[]
    ).map((r) => [r.id, r.at]),
  );
  runsDb.close();
  statsDb.close();
  const relay: number[] = [];
  const stats: number[] = [];
  for (const e of sent) {
    if (e.sent === null) continue;
    relay.push(e.sent - e.created);
    const at = applied.get(e.id);
    if (at !== undefined) stats.push(at - e.sent);
  }
  return { relay: spread(relay), stats: spread(stats) };
}

function spread(ms: number[]): Delay {
  const sorted = [...ms].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))] ?? 0;
  return { max: sorted[sorted.length - 1] ?? 0, p99 };
}

function openDb(dir: string, name: string): Database {
  return new Database(join(dir, name, `${name}.db`), { readonly: true });
}

/** Every run.logged event in EVENTS_RUNS: the run ids and the event ids (with repeats, if any). */
export async function loggedInStream(nc: NatsConnection): Promise<{ runIds: string[]; eventIds: string[] }> {
  const consumer = await jetstream(nc).consumers.get("EVENTS_RUNS", {
    filter_subjects: "events.runs.run.logged",
    deliver_policy: DeliverPolicy.All,
  });
  const runIds: string[] = [];
  const eventIds: string[] = [];
  for (;;) {
    const m = await consumer.next({ expires: 2000 });
    if (!m) break;
    const e = m.json<{ id: string; data: { runId: string } }>();
    runIds.push(e.data.runId);
    eventIds.push(e.id);
    if (m.info.pending === 0) break;
  }
  return { runIds, eventIds };
}
