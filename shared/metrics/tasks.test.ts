/**
 * Operating tasks against real parts: a nats-server with JetStream, the
 * `tasker` (works tasks) and `asker` (submits them) fixture services with
 * their own SQLite files. Holds tasks in the worker to give the queue a
 * depth, then reads it in `$SRV.STATS`, on `/metrics` and through the admin
 * RPC (`tasks`, `retryTask`), and counts the callbacks that ran.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import { MeshError } from "../errors/index.ts";
import type { TaskStatsData } from "../protocol/levels.ts";
import { createRpcClient } from "../rpc/index.ts";
import { adminRpc } from "../service/admin.ts";
import type { RunningService } from "../service/index.ts";
import { ask as askTask, outcomeOf, startTaskFixtures, type TaskFixtures } from "../tasks/testdata/ask.ts";
import type * as schema from "../tasks/testdata/schema.ts";
import { taskControl } from "../tasks/testdata/services.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { waitFor } from "../testing/wait.ts";

setDefaultTimeout(60_000);

let nats: NatsServer;
let nc: NatsConnection;
let tasker: RunningService<typeof schema>;
let asker: RunningService<typeof schema>;

let fixtures: TaskFixtures;

const ask = (body: Record<string, unknown>) => askTask(asker.url, body);
const outcome = (id: string) => outcomeOf(asker.store.db, id);

/** The task figures each instance of `name` puts in `$SRV.STATS` (every endpoint carries the same). */
async function taskStats(name: string): Promise<TaskStatsData[]> {
  const found: TaskStatsData[] = [];
  for await (const s of await new Svcm(nc).client().stats(name)) {
    const data = s.endpoints?.[0]?.data as { tasks?: TaskStatsData } | undefined;
    if (data?.tasks) found.push(data.tasks);
  }
  return found;
}

/** The text of a scrape. */
async function scrape(svc: RunningService<typeof schema>): Promise<string> {
  const res = await fetch(`${svc.url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}
/** The value of the series that begins with `series`: `name`, or `name{first="label"` (prom-client puts the service's labels last). */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(series) && " {,".includes(l[series.length] ?? "-"));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
};

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  fixtures = await startTaskFixtures(nats.url, { maxDeliver: 2, concurrency: 2 });
  ({ tasker, asker } = fixtures);
});

afterAll(async () => {
  taskControl.release = Promise.resolve();
  await fixtures?.stop();
  await nc?.close();
  await nats?.stop();
});

describe("a queue with tasks held in the worker", () => {
  test("$SRV.STATS, /metrics and the admin RPC show its depth, tasks in progress and the oldest's age", async () => {
    let release = () => {};
    taskControl.release = new Promise<void>((r) => (release = r));
    const held = new Set<number>();
    taskControl.onHold = (n) => held.add(n);
    const ids: string[] = [];
    try {
      await heldQueue(ids, held);
    } finally {
      release();
    }
    for (const id of ids) await waitFor(() => outcome(id), { what: `the callback of ${id}` });
    const drained = await waitFor(
      async () => {
        const [t] = await taskStats("tasker");
        return t?.queue?.tasks.every((x) => x.depth === 0) && t.queue.inProgress === 0 ? t : undefined;
      },
      { what: "an empty queue in $SRV.STATS" },
    );
    expect(drained.queue?.oldestAgeMs).toBeNull();
  });
});

/**
 * Four `hold` tasks with concurrency 2: one held in its transaction, the
 * others delivered to the instance (waiting for the store, or prefetched) or
 * waiting in the queue; none leaves the queue until it is acknowledged.
 */
async function heldQueue(ids: string[], held: Set<number>): Promise<void> {
  for (const n of [1, 2, 3, 4]) ids.push(await ask({ n, task: "hold" }));
  await waitFor(() => held.size === 1, { what: "a task held" });

  const owner = await waitFor(
    async () => {
      const [t] = await taskStats("tasker");
      const hold = t?.queue?.tasks.find((x) => x.task === "tasker/hold");
      return hold?.depth === 4 && t?.queue && t.queue.pending + t.queue.inProgress === 4 ? t : undefined;
    },
    { what: "a depth of 4 in $SRV.STATS" },
  );
  expect(owner.queue?.stream).toBe("TASKS_TASKER");
  expect(owner.queue?.inProgress).toBeGreaterThanOrEqual(2);
  expect(owner.queue?.tasks.map((t) => t.task)).toEqual([
    "tasker/always-fails",
    "tasker/hold",
    "tasker/square",
  ]);
  expect(owner.queue?.tasks.find((t) => t.task === "tasker/square")).toEqual({
    task: "tasker/square",
    depth: 0,
    oldestAgeMs: null,
  });
  const oldest = owner.queue?.tasks.find((t) => t.task === "tasker/hold")?.oldestAgeMs ?? -1;
  expect(oldest).toBeGreaterThanOrEqual(0);
  expect(oldest).toBeLessThan(30_000);
  expect(owner.submits).toEqual([]);

  const [requester] = await taskStats("asker");
  expect(requester?.queue).toBeNull();
  expect(requester?.submits).toEqual(["tasker/always-fails", "tasker/hold", "tasker/square"]);
  expect(requester?.sentPending).toBeGreaterThanOrEqual(4);

  const metrics = await scrape(tasker);
  expect(sample(metrics, 'runnerly_task_queue_depth{task="tasker/hold"')).toBe(4);
  expect(sample(metrics, 'runnerly_task_queue_depth{task="tasker/square"')).toBe(0);
  expect(sample(metrics, "runnerly_task_queue_in_progress")).toBe(owner.queue?.inProgress as number);
  expect(sample(metrics, 'runnerly_task_oldest_age_seconds{task="tasker/hold"')).toBeGreaterThanOrEqual(0);
  // A worker that submits nothing has no requester series.
  expect(metrics).not.toContain("runnerly_tasks_sent_pending");

  const listed = await createRpcClient(nc, adminRpc("tasker")).tasks({});
  expect(listed.queue?.tasks.find((t) => t.task === "tasker/hold")?.depth).toBe(4);
  expect((listed.queue?.pending ?? 0) + (listed.queue?.inProgress ?? 0)).toBe(4);
}

describe("results delivered", () => {
  test("each callback that committed is counted by task and status, in $SRV.STATS and on /metrics", async () => {
    const count = async (task: string, status: string) =>
      (await taskStats("asker"))[0]?.results.find((r) => r.task === task && r.status === status)?.count ?? 0;
    const before = await count("tasker/square", "done");
    const id = await ask({ n: 9 });
    await waitFor(() => outcome(id), { what: "the callback" });
    await waitFor(async () => (await count("tasker/square", "done")) === before + 1, {
      what: "one more done result in $SRV.STATS",
    });
    const metrics = await scrape(asker);
    expect(sample(metrics, 'runnerly_task_results_total{task="tasker/square",status="done"')).toBe(
      before + 1,
    );
    expect(sample(metrics, "runnerly_tasks_sent_pending")).toBeGreaterThanOrEqual(0);
  });
});

describe("admin RPC", () => {
  test("tasks lists what the owner worked (a task failed on its last delivery is dead) and what the requester sent", async () => {
    const dead = await ask({ n: 5, task: "always-fails" });
    const done = await ask({ n: 6 });
    await waitFor(async () => (await outcome(dead))?.status === "failed", {
      what: "the failure's callback",
      timeoutMs: 15_000,
    });
    await waitFor(() => outcome(done), { what: "the done task's callback" });

    const owner = createRpcClient(nc, adminRpc("tasker"));
    const deadRows = await owner.tasks({ status: "dead" });
    expect(deadRows.worked.rows.find((r) => r.id === dead)).toMatchObject({
      task: "tasker/always-fails",
      requester: "asker",
      status: "dead",
      deliveries: 2,
    });
    expect(deadRows.worked.rows.every((r) => r.status === "dead")).toBe(true);
    expect(deadRows.worked.counts.dead).toBeGreaterThanOrEqual(1);
    expect((await owner.tasks({ status: "failed" })).worked.rows.map((r) => r.id)).not.toContain(dead);
    const doneRows = await owner.tasks({ status: "done", limit: 1000 });
    expect(doneRows.worked.rows.map((r) => r.id)).toContain(done);
    expect(doneRows.sent.rows).toEqual([]);

    const requester = createRpcClient(nc, adminRpc("asker"));
    const failed = await requester.tasks({ status: "failed" });
    expect(failed.sent.rows.find((r) => r.id === dead)).toMatchObject({
      task: "tasker/always-fails",
      status: "failed",
      callback: "failed",
      attempt: 1,
    });
    expect(failed.sent.rows.every((r) => r.status === "failed")).toBe(true);
    expect(failed.queue).toBeNull();
    expect(failed.sent.counts.failed).toBeGreaterThanOrEqual(1);
    expect((await requester.tasks({ status: "pending" })).sent.rows).toEqual([]);
  });

  test("retryTask resubmits a failed task as its next attempt; unknown is 404, done is 409, bad input 400", async () => {
    const id = await ask({ n: 7, task: "always-fails" });
    await waitFor(async () => (await outcome(id))?.status === "failed", {
      what: "the failure",
      timeoutMs: 15_000,
    });
    const admin = createRpcClient(nc, adminRpc("asker"));
    expect(await admin.retryTask({ id })).toMatchObject({ id, status: "pending", attempt: 2 });
    await waitFor(async () => (await outcome(id))?.calls === 2, {
      what: "the second callback",
      timeoutMs: 15_000,
    });

    const status = async (p: Promise<unknown>) => {
      const err = await p.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MeshError);
      return (err as MeshError).status;
    };
    expect(await status(admin.retryTask({ id: "no-such-task" }))).toBe(404);
    const done = await ask({ n: 8 });
    await waitFor(() => outcome(done), { what: "the done task" });
    expect(await status(admin.retryTask({ id: done }))).toBe(409);
    expect(await status(admin.retryTask({ id: "" }))).toBe(400);
    expect(await status(admin.tasks({ status: "lost" as never }))).toBe(400);
  });
});
