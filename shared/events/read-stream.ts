/**
 * Reads a stream from its first message through the read-only message API
 * (`$JS.API.STREAM.MSG.GET.<stream>`, next message at or after a sequence on
 * a subject filter). Unlike a consumer, it needs no right to create anything
 * on the server, so a service may rebuild its projection from another
 * service's stream without being able to create consumers there (a consumer
 * could deliver the stream to any subject).
 */
import type { JetStreamManager, MsgRequest, StoredMsg } from "@nats-io/jetstream";

/**
 * Yields every message of `stream` on `filter`, in order, until the end of
 * the stream as it is when each read is made.
 *
 * @example
 * for await (const m of readStream(jsm, "EVENTS_RUNS", "events.runs.>")) apply(m.json());
 */
export async function* readStream(
  jsm: JetStreamManager,
  stream: string,
  filter: string,
): AsyncGenerator<StoredMsg> {
  let seq = 1;
  for (;;) {
    // nats-server ≥ 2.9 answers `next_by_subj`; the client's type lists it for direct gets only.
    const query = { seq, next_by_subj: filter } as unknown as MsgRequest;
    const m = await jsm.streams.getMessage(stream, query);
    if (!m) return;
    yield m;
    seq = m.seq + 1;
  }
}
