/**
 * The ceiling row's submitting process (see jetstream.ts): publishes each
 * task to the tasks work queue (PubAck awaited) and ends its round trip when
 * the result pulled from its own queue names it; every result is acked.
 * Driven by the runner (driver.ts).
 *
 *   NATS_URL=… bun bench/tasks/jetstream-submitter.ts   (spawned by jetstream.ts)
 */
import { jetstream } from "@nats-io/jetstream";
import { completions, serveDriver } from "./driver.ts";
import { connectCeiling, RAW_QUEUES } from "./jetstream.ts";

const nc = await connectCeiling("bench-raw-submitter");
const js = jetstream(nc);
const consumer = await js.consumers.get(RAW_QUEUES.results.stream, RAW_QUEUES.results.durable);
// A result may come back before its submitter gets to wait for it.
const done = completions();
const results = await consumer.consume({ max_messages: 256 });
void (async () => {
  for await (const m of results) {
    m.ack();
    done.seen(m.json<{ id: string }>().id);
  }
})();

serveDriver({
  async roundTrip(seq) {
    const id = `t${seq}`;
    await js.publish(RAW_QUEUES.tasks.subject, JSON.stringify({ id, n: seq }), { msgID: `task:${id}` });
    await done.wait(id);
  },
  close: () => nc.close(),
});
