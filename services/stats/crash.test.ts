/**
 * Crash tests with real processes: a producer killed mid-batch, a consumer
 * killed between its commit and its ack, and stats killed while a monthly
 * report's task or its result is in its hands lose nothing and apply nothing
 * twice.
 */

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import { adminRpc, createRpcClient } from "@runnerly/kit";
import { meshFetch, NatsServer, waitFor } from "@runnerly/kit/testing";
import type { Subprocess } from "bun";
import type { MonthlyReport, Report, Summary } from "./contract.ts";

setDefaultTimeout(90_000);

const root = join(import.meta.dir, "..");
let nats: NatsServer;
let nc: NatsConnection;
const procs = new Set<Subprocess>();

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
});

afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await nc?.close();
  await nats?.stop();
});

function start(service: string, dataDir: string, extra: Record<string, string> = {}): Subprocess {
  const proc = Bun.spawn([process.execPath, join(root, service, "main.ts")], {
    env: {
      ...process.env,
      NATS_URL: nats.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      EVENTS_ACK_WAIT_MS: "1500",
      ...extra,
    },
    stdout: "inherit",
    stderr: "inherit",
  });
  procs.add(proc);
  void proc.exited.then(() => procs.delete(proc));
  return proc;
}

async function registered(service: string, count = 1): Promise<void> {
  await waitFor(
    async () => {
      let n = 0;
      try {
        for await (const _ of await new Svcm(nc).client().ping(service)) n++;
      } catch {
        return false;
      }
      return n === count;
    },
    { timeoutMs: 15_000, what: `${service} registered` },
  );
}

/** Every run.logged event in the stream, by run id, with how often each event id appears. */
async function loggedInStream(): Promise<{ runIds: Set<string>; eventIds: string[] }> {
  const consumer = await jetstream(nc).consumers.get("EVENTS_RUNS", {
    filter_subjects: "events.runs.run.logged",
    deliver_policy: DeliverPolicy.All,
  });
  const runIds = new Set<string>();
  const eventIds: string[] = [];
  for (;;) {
    const m = await consumer.next({ expires: 1000 });
    if (!m) break;
    const e = m.json<{ id: string; data: { runId: string } }>();
    runIds.add(e.data.runId);
    eventIds.push(e.id);
    if (m.info.pending === 0) break;
  }
  return { runIds, eventIds };
}

/** Waits until stats answers report `reportId` of `user` as ready; its body. */
function readyReport(reportId: string, user: string, what: string): Promise<Report> {
  return waitFor(
    async () => {
      const res = await meshFetch(nc, "stats", `/api/stats/reports/${reportId}`, { user });
      const body = (await res.json()) as Report;
      return body.status === "ready" ? body : null;
    },
    { timeoutMs: 20_000, what },
  );
}

/** Every report.ready event in the stream for `reportId`. */
async function readyEventsOf(reportId: string): Promise<MonthlyReport[]> {
  const consumer = await jetstream(nc).consumers.get("EVENTS_STATS", {
    filter_subjects: "events.stats.report.ready",
    deliver_policy: DeliverPolicy.All,
  });
  const found: MonthlyReport[] = [];
  for (;;) {
    const m = await consumer.next({ expires: 1000 });
    if (!m) break;
    const data = m.json<{ data: MonthlyReport }>().data;
    if (data.reportId === reportId) found.push(data);
    if (m.info.pending === 0) break;
  }
  return found;
}

const summary = async (user: string) =>
  (await (await meshFetch(nc, "stats", "/api/stats/summary", { user })).json()) as Summary;

describe("crashes lose nothing", () => {
  test("runs killed with SIGKILL mid-batch: every committed run has its event, no event lacks its run, stats converges", async () => {
    const runsDir = mkdtempSync(join(tmpdir(), "crash-runs-"));
    const statsDir = mkdtempSync(join(tmpdir(), "crash-stats-"));
    let runs = start("runs", runsDir);
    const stats = start("stats", statsDir);
    await registered("runs");
    await registered("stats");

    const user = "crash";
    let ok = 0;
    let sent = 0;
    const writer = async () => {
      while (sent < 400) {
        const i = sent++;
        try {
          const res = await meshFetch(nc, "runs", "/api/runs/runs", {
            method: "POST",
            user,
            timeoutMs: 2000,
            json: {
              distanceM: 1000 + i,
              durationS: 400,
              startedAt: new Date(Date.UTC(2026, 1, 1) + i * 3600_000).toISOString(),
            },
          });
          if (res.status === 201) ok++;
        } catch {
          // in flight on the killed process, or sent while it was down: not acknowledged
        }
      }
    };
    const writers = Array.from({ length: 16 }, writer);
    await waitFor(() => ok >= 120, { timeoutMs: 20_000, what: "writes before the crash" });
    runs.kill("SIGKILL");
    await runs.exited;
    runs = start("runs", runsDir);
    await Promise.all(writers);
    await registered("runs");
    const admin = createRpcClient(nc, adminRpc("runs"));
    await waitFor(async () => (await admin.outbox({})).count === 0, {
      timeoutMs: 20_000,
      what: "the outbox to drain",
    });

    const db = new Database(join(runsDir, "runs.db"), { readonly: true });
    const committed = db.query("SELECT id, distance_m AS d FROM runs WHERE owner = ?").all(user) as {
      id: string;
      d: number;
    }[];
    db.close();
    const stream = await loggedInStream();
    expect(committed.length).toBeGreaterThanOrEqual(ok);
    expect([...stream.runIds].sort()).toEqual(committed.map((r) => r.id).sort());
    expect(new Set(stream.eventIds).size).toBe(stream.eventIds.length);

    const distance = committed.reduce((s, r) => s + r.d, 0);
    const s = await waitFor(
      async () => {
        const v = await summary(user);
        return v.runs === committed.length ? v : null;
      },
      { timeoutMs: 30_000, what: "stats to converge" },
    );
    expect(s.distanceM).toBe(distance);
    runs.kill("SIGTERM");
    stats.kill("SIGTERM");
    await Promise.all([runs.exited, stats.exited]);
  });

  test("stats killed after committing but before acking: the redelivered event is not applied twice", async () => {
    const runsDir = mkdtempSync(join(tmpdir(), "ack-runs-"));
    const statsDir = mkdtempSync(join(tmpdir(), "ack-stats-"));
    const runs = start("runs", runsDir);
    // Armed: the first event it applies kills it between commit and ack.
    const doomed = start("stats", statsDir, { MESH_FAULTS: "consumer.after-commit" });
    await registered("runs");
    await registered("stats");
    const user = "ack";
    const res = await meshFetch(nc, "runs", "/api/runs/runs", {
      method: "POST",
      user,
      json: { distanceM: 4242, durationS: 1234, startedAt: "2026-05-05T05:05:05Z" },
    });
    expect(res.status).toBe(201);
    expect(await doomed.exited).not.toBe(0);

    const stats = start("stats", statsDir);
    await registered("stats");
    const s = await waitFor(
      async () => {
        const v = await summary(user);
        return v.runs > 0 ? v : null;
      },
      { timeoutMs: 20_000, what: "stats after the crash" },
    );
    // One event, delivered twice (consumer sequence 2), and nothing left unacknowledged.
    await waitFor(
      async () => {
        const info = await (await jetstreamManager(nc)).consumers.info("EVENTS_RUNS", "stats-update-totals");
        return info.delivered.consumer_seq >= 2 && info.num_ack_pending === 0;
      },
      { timeoutMs: 15_000, what: "the event to be redelivered and acked" },
    );
    expect(s.runs).toBe(1);
    expect(s.distanceM).toBe(4242);
    // Still exactly once after everything settled.
    expect((await summary(user)).runs).toBe(1);
    runs.kill("SIGTERM");
    stats.kill("SIGTERM");
    await Promise.all([runs.exited, stats.exited]);
  });

  const reportCrashes = [
    ["after working the task, before acking it", "task.after-commit", "TASKS_STATS", "stats-tasks"],
    [
      "after the callback, before acking the result",
      "task-result.after-commit",
      "RESULTS_STATS",
      "stats-task-results",
    ],
  ] as const;
  for (const [moment, fault, stream, durable] of reportCrashes) {
    test(`stats killed ${moment}: the restarted stats makes the report ready, with one report.ready`, async () => {
      const runsDir = mkdtempSync(join(tmpdir(), "report-runs-"));
      const statsDir = mkdtempSync(join(tmpdir(), "report-stats-"));
      const runs = start("runs", runsDir);
      const doomed = start("stats", statsDir, { MESH_FAULTS: fault, TASKS_ACK_WAIT_MS: "1500" });
      await registered("runs");
      await registered("stats");
      const delivered = async () =>
        (await (await jetstreamManager(nc)).consumers.info(stream, durable)).delivered.consumer_seq;
      const deliveredBefore = await delivered();
      const user = `report-${fault}`;
      for (const [distanceM, startedAt] of [
        [7000, "2026-10-04T07:00:00Z"],
        [9000, "2026-10-11T07:00:00Z"],
      ] as const) {
        const run = await meshFetch(nc, "runs", "/api/runs/runs", {
          method: "POST",
          user,
          json: { distanceM, durationS: 2400, startedAt },
        });
        expect(run.status).toBe(201);
      }
      await waitFor(async () => (await summary(user)).runs === 2, { what: "both runs in stats" });

      const asked = await meshFetch(nc, "stats", "/api/stats/reports", {
        method: "POST",
        user,
        json: { month: "2026-10" },
      });
      expect(asked.status).toBe(202);
      const { reportId } = (await asked.json()) as Report;
      expect(await doomed.exited).not.toBe(0);

      const stats = start("stats", statsDir, { TASKS_ACK_WAIT_MS: "1500" });
      await registered("stats");
      const ready = await readyReport(reportId, user, "the report ready after the restart");
      expect(ready.report).toMatchObject({ reportId, user, month: "2026-10", runs: 2, distanceM: 16_000 });
      // The message in hand at the crash was delivered again, and nothing is left unacknowledged.
      await waitFor(
        async () => {
          const info = await (await jetstreamManager(nc)).consumers.info(stream, durable);
          return info.delivered.consumer_seq === deliveredBefore + 2 && info.num_ack_pending === 0;
        },
        { timeoutMs: 15_000, what: `the ${stream} message to be redelivered and acked` },
      );
      const events = await waitFor(
        async () => {
          const found = await readyEventsOf(reportId);
          return found.length > 0 ? found : null;
        },
        { what: "report.ready in the stream" },
      );
      expect(events).toEqual([ready.report as MonthlyReport]);
      const db = new Database(join(statsDir, "stats.db"), { readonly: true });
      const sent = db.query("SELECT status, attempt FROM _mesh_tasks_sent WHERE key = ?").all(reportId);
      db.close();
      expect(sent).toEqual([{ status: "done", attempt: 1 }]);
      runs.kill("SIGTERM");
      stats.kill("SIGTERM");
      await Promise.all([runs.exited, stats.exited]);
    });
  }

  test("a report left pending by the polling worker of old versions (no task) gets its task at start and becomes ready", async () => {
    const statsDir = mkdtempSync(join(tmpdir(), "report-upgrade-"));
    const first = start("stats", statsDir);
    await registered("stats");
    first.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const reportId = crypto.randomUUID();
    const user = "from-before";
    const db = new Database(join(statsDir, "stats.db"));
    db.query(
      "INSERT INTO reports (id, user, month, status, requested_at) VALUES (?, ?, '2026-09', 'pending', ?)",
    ).run(reportId, user, Date.now());
    db.close();

    const stats = start("stats", statsDir);
    await registered("stats");
    const ready = await readyReport(reportId, user, "the old pending report ready");
    expect(ready.report).toMatchObject({ reportId, user, month: "2026-09", runs: 0 });
    stats.kill("SIGTERM");
    await stats.exited;
  });
});
