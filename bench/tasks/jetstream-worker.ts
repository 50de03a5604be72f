/**
 * The ceiling row's worker process (see jetstream.ts): pulls tasks from the
 * tasks work queue (as many ahead as the kit's worker: concurrency × 4),
 * works up to TASK_CONCURRENCY at once — the input doubled, the result
 * published to the submitter's queue with its PubAck awaited — and acks
 * each task once its result is stored.
 *
 *   NATS_URL=… TASK_CONCURRENCY=4 bun bench/tasks/jetstream-worker.ts   (spawned by jetstream.ts)
 */
import { jetstream } from "@nats-io/jetstream";
import { connectCeiling, RAW_QUEUES } from "./jetstream.ts";

const concurrency = Number(process.env.TASK_CONCURRENCY ?? 4);
const nc = await connectCeiling("bench-raw-worker");
const js = jetstream(nc);
const consumer = await js.consumers.get(RAW_QUEUES.tasks.stream, RAW_QUEUES.tasks.durable);
const messages = await consumer.consume({ max_messages: concurrency * 4 });
console.log(`jetstream worker on ${RAW_QUEUES.tasks.stream}, concurrency ${concurrency}`);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    void nc.close().then(() => process.exit(0));
  });
}

let busy = 0;
let freed: (() => void) | null = null;
for await (const m of messages) {
  while (busy >= concurrency) await new Promise<void>((resolve) => (freed = resolve));
  busy++;
  const task = m.json<{ id: string; n: number }>();
  js.publish(RAW_QUEUES.results.subject, JSON.stringify({ id: task.id, doubled: task.n * 2 }), {
    msgID: `result:${task.id}`,
  })
    .then(
      () => m.ack(),
      (err) => {
        console.error(`result of ${task.id} not stored: ${err}`);
        m.nak();
      },
    )
    .finally(() => {
      busy--;
      freed?.();
      freed = null;
    });
}
