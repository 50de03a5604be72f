/**
 * The Runnerly row's worker process: the `bench-worker` service, working
 * `bench-worker/double` from its JetStream work queue.
 *
 *   NATS_URL=… DATA_DIR=… bun bench/tasks/runnerly-worker.ts   (spawned by bench/tasks/runnerly.ts)
 */
import { startService } from "@runnerly/kit";
import { benchWorker } from "./runnerly-fixture.ts";

const svc = await startService(benchWorker);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, async () => {
    await svc.stop();
    process.exit(0);
  });
}
