/**
 * The ceiling row's submitting process (see jetstream.ts): publishes each
 * task to the tasks work queue (PubAck awaited) and ends its round trip when
 * the result pulled from its own queue names it; every result is acked.
 * Driven by the runner (driver.ts).
 *
 *   NATS_URL=… bun bench/tasks/jetstream-submitter.ts   (spawned by jetstream.ts)
 */
import { jetstream } from "@nats-io/jetstream";
import { connectNats, silentLogger } from "@runnerly/kit";
import { serveDriver } from "./driver.ts";
import { RAW_QUEUES } from "./jetstream.ts";

// Connected as the kit connects (one socket write per event-loop turn): nothing of the kit per message.
const nc = await connectNats({
  servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
  name: "bench-raw-submitter",
  logger: silentLogger,
});
const js = jetstream(nc);
const consumer = await js.consumers.get(RAW_QUEUES.results.stream, RAW_QUEUES.results.durable);
const waiting = new Map<string, () => void>();
// A result may come back before its submitter gets to wait for it.
const finishedEarly = new Set<string>();
const results = await consumer.consume({ max_messages: 256 });
void (async () => {
  for await (const m of results) {
    const { id } = m.json<{ id: string }>();
    m.ack();
    const resolve = waiting.get(id);
    if (resolve) {
      waiting.delete(id);
      resolve();
    } else {
      finishedEarly.add(id);
    }
  }
})();

serveDriver({
  async roundTrip(seq) {
    const id = `t${seq}`;
    await js.publish(RAW_QUEUES.tasks.subject, JSON.stringify({ id, n: seq }), { msgID: `task:${id}` });
    if (finishedEarly.delete(id)) return;
    await new Promise<void>((resolve) => waiting.set(id, resolve));
  },
  close: () => nc.close(),
});
