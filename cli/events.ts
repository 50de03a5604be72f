/**
 * `runnerly events tail <stream>`: prints a stream's events as they arrive
 * (or from the start with --all), one JSON object per line, through an
 * ordered consumer that leaves nothing behind on the server.
 */
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";

export type TailOptions = { all: boolean; count: number | undefined; signal?: AbortSignal };

/** Streams events to `write` until `count` were printed or `signal` aborts. */
export async function tailEvents(
  nc: NatsConnection,
  stream: string,
  options: TailOptions,
  write: (line: string) => void,
): Promise<number> {
  const consumer = await jetstream(nc).consumers.get(stream, {
    deliver_policy: options.all ? DeliverPolicy.All : DeliverPolicy.New,
  });
  const messages = await consumer.consume();
  options.signal?.addEventListener("abort", () => void messages.close());
  let printed = 0;
  for await (const m of messages) {
    let body: unknown;
    try {
      body = m.json();
    } catch {
      body = m.string();
    }
    write(
      JSON.stringify({
        seq: m.seq,
        subject: m.subject,
        msgId: m.headers?.get("Nats-Msg-Id") || undefined,
        event: body,
      }),
    );
    printed++;
    if (options.count !== undefined && printed >= options.count) break;
  }
  await messages.close().catch(() => {});
  return printed;
}
