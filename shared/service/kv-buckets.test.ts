import { afterAll, beforeAll, expect, test } from "bun:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { NatsServer } from "../testing/nats-server.ts";
import { openKvBucket } from "./kv-buckets.ts";

let nats: NatsServer;
const connections: NatsConnection[] = [];

beforeAll(async () => {
  nats = await NatsServer.start();
});
afterAll(async () => {
  for (const nc of connections) await nc.close();
  await nats?.stop();
});

test("instances starting at once each open the bucket that one of them made, and share it", async () => {
  for (let i = 0; i < 6; i++) connections.push(await connect({ servers: nats.url }));
  for (let round = 0; round < 5; round++) {
    const bucket = { name: `shared_${round}`, ttlMs: 60_000 };
    const kvs = await Promise.all(connections.map((nc) => openKvBucket(nc, bucket, 1)));
    await kvs[0]!.put("k", `v${round}`);
    for (const kv of kvs) expect((await kv.get("k"))?.string()).toBe(`v${round}`);
  }
});
