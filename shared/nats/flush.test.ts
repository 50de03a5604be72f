import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { silentLogger } from "../log/index.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { flushOncePerTurn, flushPatchProblem } from "./flush.ts";
import { connectNats } from "./index.ts";

let nats: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: false });
  nc = await connectNats({ servers: nats.url, name: "flush-test", logger: silentLogger });
});
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

/** Counts the socket writes the connection makes while `fn` runs. */
async function countWrites(fn: () => void | Promise<void>): Promise<number> {
  const transport = (nc as unknown as { protocol: { transport: { send(b: Uint8Array): void } } }).protocol
    .transport;
  const send = transport.send;
  let writes = 0;
  transport.send = function countingSend(b) {
    writes++;
    return send.call(this, b);
  };
  try {
    await fn();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    transport.send = send;
  }
  return writes;
}

describe("one socket write per event-loop turn", () => {
  test("the client's internals are the ones the patch was written for (fails when @nats-io/nats-core changes them)", () => {
    expect(flushPatchProblem(nc)).toBeNull();
    expect(flushOncePerTurn(nc)).toBe(true);
  });

  test("50 messages published in one turn, each after its own microtask, leave in one write and arrive in order", async () => {
    const got: string[] = [];
    const sub = nc.subscribe("flush.test", { max: 50, callback: (_e, m) => void got.push(m.string()) });
    await nc.flush();
    // Like 50 HTTP handlers each finishing in its own promise chain: nats-core alone writes 50 times.
    const writes = await countWrites(async () => {
      for (let i = 0; i < 50; i++) {
        await Promise.resolve();
        nc.publish("flush.test", String(i));
      }
    });
    expect(writes).toBe(1);
    await sub.closed;
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
  });

  test("requests made in one turn are answered", async () => {
    const sub = nc.subscribe("flush.echo", { callback: (_e, m) => void m.respond(m.data) });
    await nc.flush();
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => nc.request("flush.echo", String(i), { timeout: 2000 })),
    );
    expect(replies.map((m) => m.string())).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    sub.unsubscribe();
  });

  test("a buffer past the client's threshold is written at once, without waiting for the turn to end", async () => {
    const big = new Uint8Array(64 * 1024);
    const writes = await countWrites(() => {
      nc.publish("flush.big", big);
      nc.publish("flush.big", big);
    });
    expect(writes).toBeGreaterThanOrEqual(2);
  });
});
