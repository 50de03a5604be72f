/**
 * The Runnerly row's submitting process: the `bench-requester` service. A
 * round trip submits `bench-worker/double` in a write transaction of its
 * store and ends when the task's callback has committed (the client's
 * `watch` says so). Driven by the runner (driver.ts).
 *
 *   NATS_URL=… DATA_DIR=… bun bench/tasks/runnerly-requester.ts   (spawned by bench/tasks/runnerly.ts)
 */
import { startService } from "@runnerly/kit";
import { completions, serveDriver } from "./driver.ts";
import { benchRequester, CALLBACK, doubleTask } from "./runnerly-fixture.ts";

const svc = await startService(benchRequester);
// A callback may commit before its submitter gets to wait for it.
const done = completions();
svc.tasks.watch((id) => done.seen(id));

serveDriver({
  async roundTrip(seq) {
    const { id } = await svc.store.write((tx) =>
      svc.tasks.submit(tx, doubleTask, { n: seq }, { callback: CALLBACK }),
    );
    await done.wait(id);
  },
  close: () => svc.stop(),
});
