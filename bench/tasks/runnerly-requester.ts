/**
 * The Runnerly row's submitting process: the `bench-requester` service. A
 * round trip submits `bench-worker/double` in a write transaction of its
 * store and ends when the task's callback has committed (the client's
 * `watch` says so). Driven by the runner (driver.ts).
 *
 *   NATS_URL=… DATA_DIR=… bun bench/tasks/runnerly-requester.ts   (spawned by bench/tasks/runnerly.ts)
 */
import { startService } from "@runnerly/kit";
import { serveDriver } from "./driver.ts";
import { benchRequester, CALLBACK, doubleTask } from "./runnerly-fixture.ts";

const svc = await startService(benchRequester);
const waiting = new Map<string, () => void>();
// A callback may commit before its submitter gets to wait for it.
const finishedEarly = new Set<string>();
svc.tasks.watch((id) => {
  const resolve = waiting.get(id);
  if (resolve) {
    waiting.delete(id);
    resolve();
  } else {
    finishedEarly.add(id);
  }
});

serveDriver({
  async roundTrip(seq) {
    const { id } = await svc.store.write((tx) =>
      svc.tasks.submit(tx, doubleTask, { n: seq }, { callback: CALLBACK }),
    );
    if (finishedEarly.delete(id)) return;
    await new Promise<void>((resolve) => waiting.set(id, resolve));
  },
  close: () => svc.stop(),
});
