/**
 * Tasks through a broker restart: nats-server is stopped and started again
 * on the same port with the same JetStream store while 1,000 tasks flow
 * (some submitted while it is down), then killed with SIGKILL and started
 * again while the backlog flows; every callback runs exactly once and
 * every task is worked exactly once.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { readTaskQueue } from "../metrics/task-figures.ts";
import type { RunningService } from "../service/index.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { waitFor } from "../testing/wait.ts";
import { startTaskFixtures, type TaskFixtures } from "./testdata/ask.ts";
import * as schema from "./testdata/schema.ts";
import { square, taskerService } from "./testdata/services.ts";

setDefaultTimeout(90_000);

const TASKS = 1000;

let nats: NatsServer;
let tasker: RunningService<typeof schema>;
let asker: RunningService<typeof schema>;

let fixtures: TaskFixtures;

beforeAll(async () => {
  nats = await NatsServer.start();
  fixtures = await startTaskFixtures(nats.url, {}, { TASKS_ACK_WAIT_MS: "2000" });
  ({ tasker, asker } = fixtures);
});

afterAll(async () => {
  await fixtures?.stop();
  await nats?.stop();
});

let submitted = 0;
/** Submits `k` square tasks, 25 to a transaction of the requester. */
async function submit(k: number): Promise<void> {
  for (let left = k; left > 0; left -= 25) {
    await asker.store.write(async (tx) => {
      for (let i = 0; i < Math.min(25, left); i++) {
        await asker.tasks.submit(tx, square, { n: submitted++ }, { callback: "squared" });
      }
    });
  }
}

const callbacks = () => asker.store.db.select().from(schema.outcomes).all();
const effects = () => tasker.store.db.select().from(schema.worked).all();

test("nats-server restarted twice while 1,000 tasks flow: every callback runs exactly once", async () => {
  await submit(TASKS / 2);
  await waitFor(async () => (await callbacks()).length >= 50, {
    timeoutMs: 20_000,
    what: "the first callbacks",
  });
  await nats.stop({ keepStore: true });
  // Submissions go on while the broker is down: they wait in the requester's outbox.
  await submit(TASKS / 2);
  const whileDown = (await callbacks()).length;
  await nats.restart();
  expect(whileDown).toBeLessThan(TASKS);
  // And once more, killed outright while the backlog flows.
  await waitFor(async () => (await callbacks()).length >= whileDown + 50, {
    timeoutMs: 20_000,
    what: "callbacks after the first restart",
  });
  await nats.stop({ keepStore: true, kill: true });
  await nats.restart();

  await waitFor(async () => (await callbacks()).length === TASKS, {
    timeoutMs: 45_000,
    intervalMs: 100,
    what: `${TASKS} callbacks`,
  });
  const jsm = await jetstreamManager(asker.nc);
  // Nothing left to deliver again. (The durables, not the streams: nats-server 2.9 killed outright
  // may bring back messages its work queue had already removed after their acks; none is delivered again.)
  const settled = async (stream: string, durable: string) => {
    const info = await jsm.consumers.info(stream, durable);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  };
  await waitFor(
    async () =>
      (await settled("TASKS_TASKER", "tasker-tasks")) &&
      (await settled("RESULTS_ASKER", "asker-task-results")),
    { timeoutMs: 15_000, what: "nothing left to deliver" },
  );
  // The worker's queue reads empty too, whatever the killed server left below the ack floor.
  const queue = await readTaskQueue(jsm, "tasker", taskerService().tasks?.works ?? []);
  expect({ pending: queue.pending, inProgress: queue.inProgress, oldestAgeMs: queue.oldestAgeMs }).toEqual({
    pending: 0,
    inProgress: 0,
    oldestAgeMs: null,
  });
  expect(queue.tasks.filter((t) => t.depth !== 0 || t.oldestAgeMs !== null)).toEqual([]);
  const outcomes = await callbacks();
  expect(outcomes).toHaveLength(TASKS);
  expect(outcomes.filter((o) => o.calls !== 1 || o.status !== "done")).toEqual([]);
  const worked = await effects();
  expect(worked).toHaveLength(TASKS);
  expect(worked.filter((w) => w.times !== 1)).toEqual([]);
});
