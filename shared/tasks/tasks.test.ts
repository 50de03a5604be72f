import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { eq } from "drizzle-orm";
import { readTaskQueue } from "../metrics/task-figures.ts";
import type { RunningService } from "../service/index.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { waitFor } from "../testing/wait.ts";
import { tasksSent, tasksWorked } from "./tables.ts";
import { ask as askAt, outcomeOf, postAsk, startTaskFixtures, type TaskFixtures } from "./testdata/ask.ts";
import * as schema from "./testdata/schema.ts";
import { taskControl, taskerService } from "./testdata/services.ts";

setDefaultTimeout(30_000);

let nats: NatsServer;
let tasker: RunningService<typeof schema>;
let asker: RunningService<typeof schema>;

const ask = (body: Record<string, unknown>) => postAsk(asker.url, body);
async function askId(body: Record<string, unknown>): Promise<string> {
  const res = await ask(body);
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  expect(res.headers.get("location")).toBe(`/api/asker/tasks/${id}`);
  return id;
}
const outcome = (id: string) => outcomeOf(asker.store.db, id);
const effect = (id: string) =>
  tasker.store.db.select().from(schema.worked).where(eq(schema.worked.taskId, id)).get();

let fixtures: TaskFixtures;

beforeAll(async () => {
  nats = await NatsServer.start();
  fixtures = await startTaskFixtures(nats.url, { maxDeliver: 3 });
  ({ tasker, asker } = fixtures);
});

afterAll(async () => {
  await fixtures?.stop();
  await nats?.stop();
});

describe("a task", () => {
  test("submitted in a committed transaction is worked once and its callback runs once", async () => {
    const id = await askId({ n: 7 });
    const seen = await waitFor(() => outcome(id), { what: "the callback" });
    expect(seen.status).toBe("done");
    expect(JSON.parse(seen.output as string)).toEqual({ sq: 49 });
    expect(seen.calls).toBe(1);
    expect((await effect(id))?.times).toBe(1);
    expect((await asker.tasks.status(id))?.status).toBe("done");
  });

  test("submitted in a transaction that rolls back is never sent", async () => {
    const res = await ask({ n: 99, rollback: true });
    expect(res.status).toBe(409);
    expect(await asker.store.db.select().from(tasksSent).where(eq(tasksSent.input, '{"n":99}'))).toEqual([]);
    // A task submitted after it is worked; the rolled-back one never reached the worker.
    const after = await askId({ n: 98 });
    await waitFor(() => outcome(after), { what: "the later task's callback" });
    const workedNs = (await tasker.store.db.select().from(schema.worked)).map((w) => w.n);
    expect(workedNs).toContain(98);
    expect(workedNs).not.toContain(99);
  });

  test("submitted twice with one key is one task", async () => {
    const first = await askId({ n: 5, key: "same-key" });
    const second = await askId({ n: 5, key: "same-key" });
    expect(second).toBe(first);
    await waitFor(() => outcome(first), { what: "the callback" });
    expect((await outcome(first))?.calls).toBe(1);
  });

  test("with invalid input is refused with a 400 naming the field, and nothing is sent", async () => {
    const before = (await asker.store.db.select().from(tasksSent)).length;
    const res = await ask({ n: 1.5 });
    expect(res.status).toBe(400);
    expect((await asker.store.db.select().from(tasksSent)).length).toBe(before);
  });
});

describe("failures", () => {
  test("a task that always fails ends failed after maxDeliver, the callback gets the failure, others keep flowing", async () => {
    const failing = await askId({ n: 1, task: "always-fails" });
    const fine = await askId({ n: 3 });
    const done = await waitFor(() => outcome(fine), { what: "the fine task" });
    expect(done.status).toBe("done");
    const failed = await waitFor(() => outcome(failing), { what: "the failure", timeoutMs: 10_000 });
    expect(failed.status).toBe("failed");
    expect(failed.error).toContain("this task always fails");
    expect(failed.calls).toBe(1);
    const worked = await tasker.store.db.select().from(tasksWorked).where(eq(tasksWorked.id, failing)).get();
    expect(worked?.status).toBe("failed");
    expect(worked?.deliveries).toBe(3);
  });

  test("a failed task retried runs as its next attempt and its callback runs again for it", async () => {
    const id = await askId({ n: 2, task: "always-fails" });
    await waitFor(() => outcome(id), { what: "the first failure", timeoutMs: 10_000 });
    const retried = await asker.tasks.retry(id);
    expect(retried).toMatchObject({ status: "pending", attempt: 2 });
    await waitFor(async () => (await outcome(id))?.calls === 2, {
      what: "the second callback",
      timeoutMs: 10_000,
    });
    expect((await asker.tasks.status(id))?.status).toBe("failed");
    await expect(asker.tasks.retry("no-such-task")).rejects.toThrow(/no task/);
  });

  test("a task whose deadline passes yields a deadline outcome, and its late result is ignored", async () => {
    let release = () => {};
    taskControl.release = new Promise<void>((r) => (release = r));
    const started = new Promise<void>((r) => (taskControl.onHold = () => r()));
    const id = await askId({ n: 11, task: "hold", deadlineMs: 400 });
    await started;
    const expired = await waitFor(() => outcome(id), { what: "the deadline outcome" });
    expect(expired.status).toBe("deadline");
    release();
    // The worker's write is past the deadline: rolled back, answered `deadline`, and that late result ignored.
    await waitFor(
      async () =>
        (await tasker.store.db.select().from(tasksWorked).where(eq(tasksWorked.id, id)).get())?.status ===
        "deadline",
      { what: "the worker's deadline outcome" },
    );
    await waitFor(() => (asker.taskResults?.counts.ignored ?? 0) > 0, {
      what: "the late result",
    });
    expect((await outcome(id))?.calls).toBe(1);
    expect(await effect(id)).toBeUndefined();
    taskControl.release = Promise.resolve();
  });
});

describe("status", () => {
  test("is readable as JSON, and as server-sent events until the task is done", async () => {
    let release = () => {};
    taskControl.release = new Promise<void>((r) => (release = r));
    const started = new Promise<void>((r) => (taskControl.onHold = () => r()));
    const id = await askId({ n: 4, task: "hold" });
    await started;
    const json = await fetch(`${asker.url}/api/asker/tasks/${id}`);
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({ id, status: "pending", task: "tasker/hold", attempt: 1 });
    const res = await fetch(`${asker.url}/api/asker/tasks/${id}`, {
      headers: { accept: "text/event-stream" },
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes('"status":"pending"')) {
      text += decoder.decode((await reader.read()).value, { stream: true });
    }
    release();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toContain("event: status");
    expect(text).toContain('"status":"done"');
    taskControl.release = Promise.resolve();
    const missing = await fetch(`${asker.url}/api/asker/tasks/nope`);
    expect(missing.status).toBe(404);
  });

  test("the queues are work-queue streams with one shared durable each", async () => {
    const jsm = await jetstreamManager(tasker.nc);
    expect((await jsm.streams.info("TASKS_TASKER")).config.retention).toBe("workqueue");
    expect((await jsm.streams.info("RESULTS_ASKER")).config.subjects).toEqual(["results.asker.>"]);
    expect((await jsm.consumers.info("TASKS_TASKER", "tasker-tasks")).config.ack_policy).toBe("explicit");
    const queue = await readTaskQueue(jsm, "tasker", taskerService().tasks?.works ?? []);
    expect(queue.pending).toBeGreaterThanOrEqual(0);
  });
});

describe("prefetch", () => {
  test("an instance pulls concurrency × prefetch tasks ahead while it works, and no more", async () => {
    // A server of its own: the fixtures' tasker above would compete for these tasks.
    const server = await NatsServer.start();
    const own = await startTaskFixtures(server.url, { concurrency: 2, prefetch: 4 });
    let release = () => {};
    taskControl.release = new Promise<void>((resolve) => (release = resolve));
    try {
      const ids: string[] = [];
      for (let n = 0; n < 20; n++) ids.push(await askAt(own.asker.url, { n, task: "hold" }));
      const jsm = await jetstreamManager(own.tasker.nc);
      const info = () => jsm.consumers.info("TASKS_TASKER", "tasker-tasks");
      // Every task in the stream (the asker's relay publishes them after its commits), 8 of them pulled.
      await waitFor(
        async () => {
          const i = await info();
          return i.num_ack_pending >= 8 && i.num_ack_pending + i.num_pending === 20;
        },
        { what: "all 20 tasks in the stream and 8 pulled" },
      );
      const held = await info();
      expect(held.num_ack_pending).toBe(8);
      expect(held.num_pending).toBe(12);
      release();
      await waitFor(
        async () => (await Promise.all(ids.map((id) => outcomeOf(own.asker.store.db, id)))).every(Boolean),
        { what: "every held task answered" },
      );
    } finally {
      release();
      taskControl.release = Promise.resolve();
      await own.stop();
      await server.stop();
    }
  });

  test("a prefetch that is not a whole number of at least 1 stops the start, naming it", async () => {
    const server = await NatsServer.start();
    try {
      await expect(startTaskFixtures(server.url, { prefetch: 0 })).rejects.toThrow(
        "tasker: tasks.prefetch must be a whole number of at least 1 (got 0)",
      );
    } finally {
      await server.stop();
    }
  });
});
