/**
 * The stream publisher against a real nats-server with JetStream: acks with
 * the stored sequence, duplicates recognised by `Nats-Msg-Id`, and the
 * stream's refusals and a subject no stream stores as errors that say so.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DiscardPolicy, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { MeshHeaders } from "../protocol/index.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { parseAck, StreamPublishError, StreamPublisher } from "./stream-publish.ts";

let nats: NatsServer;
let nc: NatsConnection;
let streams: StreamPublisher;

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "PUB", subjects: ["pub.>"] });
  // Holds one message and refuses the next.
  await jsm.streams.add({ name: "FULL", subjects: ["full.>"], max_msgs: 1, discard: DiscardPolicy.New });
  streams = new StreamPublisher(nc);
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

const withHeader = (name: string, value: string) => {
  const h = new MeshHeaders();
  h.append(name, value);
  return h;
};

describe("StreamPublisher", () => {
  test("many publishes in flight are each acked with where the stream stored them", async () => {
    const acks = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        streams.publish("pub.a", `body-${i}`, `id-${i}`, withHeader("Mesh-Event-Type", "a"), 2000),
      ),
    );
    expect(acks.every((a) => a.stream === "PUB" && !a.duplicate)).toBe(true);
    expect(new Set(acks.map((a) => a.seq)).size).toBe(100);
    const jsm = await jetstreamManager(nc);
    const stored = await jsm.streams.getMessage("PUB", { seq: acks[7]?.seq as number });
    expect(stored?.string()).toBe("body-7");
    expect(stored?.header.get("Nats-Msg-Id")).toBe("id-7");
    expect(stored?.header.get("Mesh-Event-Type")).toBe("a");
  });

  test("a second publish with the same message id is acked as a duplicate and stored once", async () => {
    const first = await streams.publish("pub.b", "once", "same-id", new MeshHeaders(), 2000);
    const again = await streams.publish("pub.b", "once", "same-id", new MeshHeaders(), 2000);
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ stream: "PUB", seq: first.seq, duplicate: true });
  });

  test("a subject no stream stores fails with an error naming it", async () => {
    const err = await streams.publish("nowhere.x", "x", "n-1", new MeshHeaders(), 2000).catch((e) => e);
    expect(err).toBeInstanceOf(StreamPublishError);
    expect((err as Error).message).toContain("No stream stores nowhere.x");
  });

  test("a stream's refusal fails with its description and error code", async () => {
    await streams.publish("full.a", "1", "f-1", new MeshHeaders(), 2000);
    const err = await streams.publish("full.a", "2", "f-2", new MeshHeaders(), 2000).catch((e) => e);
    expect(err).toBeInstanceOf(StreamPublishError);
    expect((err as Error).message).toContain("maximum messages exceeded");
    expect((err as StreamPublishError).errCode).toBe(10077);
  });

  test("a reply that is not an acknowledgement is an error, not an ack", () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    expect(() => parseAck("s", bytes("not json"))).toThrow(StreamPublishError);
    expect(() => parseAck("s", bytes('{"seq":1}'))).toThrow(StreamPublishError);
    expect(parseAck("s", bytes('{"stream":"S","seq":3}'))).toEqual({ stream: "S", seq: 3, duplicate: false });
  });
});
