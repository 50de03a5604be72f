import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { eq } from "drizzle-orm";
import { defaultDatabaseUrl, openStore } from "../db/index.ts";
import { silentLogger } from "../log/logger.ts";
import { createRpcClient } from "../rpc/index.ts";
import { adminRpc } from "../service/admin.ts";
import { type RunningService, startService } from "../service/index.ts";
import * as schema from "../testing/fixture/schema.ts";
import { fixtureService, itemAdded } from "../testing/fixture/service.ts";
import { meshFetch } from "../testing/mesh-fetch.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { waitFor } from "../testing/wait.ts";
import { eventSubject } from "./define.ts";
import { createOutbox } from "./outbox.ts";
import { firstPerAggregate, OutboxRelay } from "./relay.ts";
import { outbox } from "./tables.ts";

setDefaultTimeout(30_000);

let nats: NatsServer;
let nc: NatsConnection;
let producer: RunningService<typeof schema>;
let consumer: RunningService<typeof schema>;

const env = (dir: string) => ({ NATS_URL: nats.url, DATA_DIR: dir, LOG_LEVEL: "silent" });
const addItem = (owner: string, qty: number) =>
  meshFetch(nc, "fixture", "/api/fixture/items", { method: "POST", user: owner, json: { name: "i", qty } });
const tally = async (owner: string) =>
  consumer.store.db.select().from(schema.tallies).where(eq(schema.tallies.owner, owner)).get();

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  producer = (await startService(fixtureService(), {
    env: env(mkdtempSync(join(tmpdir(), "ev-p-"))),
    logger: silentLogger,
  })) as never;
  // The consumer is another service with its own store, reading the producer's stream.
  consumer = (await startService(fixtureService("tally", "1.0.0", { consume: true }), {
    env: env(mkdtempSync(join(tmpdir(), "ev-c-"))),
    logger: silentLogger,
  })) as never;
});

afterAll(async () => {
  await consumer?.stop();
  await producer?.stop();
  await nc?.close();
  await nats?.stop();
});

describe("stream", () => {
  test("is provisioned with file storage, dedupe window, discard new, no delete or purge", async () => {
    const info = await (await jetstreamManager(nc)).streams.info("EVENTS_FIXTURE");
    expect(info.config.subjects).toEqual(["events.fixture.>"]);
    expect(info.config.storage).toBe("file");
    expect(info.config.discard).toBe("new");
    expect(info.config.deny_delete).toBe(true);
    expect(info.config.deny_purge).toBe(true);
    expect(info.config.duplicate_window).toBe(120_000_000_000);
  });

  test("publishing the same event twice stores it once", async () => {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const before = (await jsm.streams.info("EVENTS_FIXTURE")).state.messages;
    const body = JSON.stringify({ id: "dup-1", type: "item.added", version: 1, occurredAt: "", data: {} });
    const a = await js.publish("events.fixture.item.added", body, { msgID: "dup-1" });
    const b = await js.publish("events.fixture.item.added", body, { msgID: "dup-1" });
    expect(a.duplicate).toBe(false);
    expect(b.duplicate).toBe(true);
    expect((await jsm.streams.info("EVENTS_FIXTURE")).state.messages).toBe(before + 1);
  });
});

describe("outbox → stream → consumer", () => {
  test("a committed write's event is relayed and applied exactly once", async () => {
    for (const qty of [1, 2, 3]) expect((await addItem("ann", qty)).status).toBe(201);
    await waitFor(async () => (await tally("ann"))?.total === 6, { what: "ann's tally" });
    expect((await tally("ann"))?.events).toBe(3);
    const unsent = await producer.store.db.select().from(outbox).where(eq(outbox.sentAt, 0));
    expect(unsent).toEqual([]);
  });

  test("a rolled-back write emits nothing", async () => {
    // With an Idempotency-Key the whole handler is one transaction: its insert
    // and its event roll back together when it fails.
    const res = await meshFetch(nc, "fixture", "/api/fixture/items?fail=500", {
      method: "POST",
      user: "rolled",
      json: { name: "i", qty: 5 },
      headers: { "idempotency-key": "rolled-1" },
    });
    expect(res.status).toBe(500);
    const rows = await producer.store.db.select().from(outbox);
    expect(rows.some((r) => r.body.includes('"owner":"rolled"'))).toBe(false);
  });

  test("writes succeed while NATS is down, and every event arrives after it returns", async () => {
    await nats.stop({ keepStore: true });
    // Nothing is refused: the state change and its event commit locally.
    const writes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        producer.app.request("/api/fixture/items", {
          method: "POST",
          headers: { "content-type": "application/json", "mesh-user": "offline" },
          body: JSON.stringify({ name: "i", qty: 100 + i }),
        }),
      ),
    );
    expect(writes.map((r) => r.status)).toEqual(Array(20).fill(201));
    await nats.restart();
    await waitFor(async () => (await tally("offline"))?.total === 2190, {
      timeoutMs: 20_000,
      what: "all offline events",
    });
    expect((await tally("offline"))?.events).toBe(20);
  });

  test("a poison event is dead-lettered after max deliveries and later events still apply", async () => {
    expect((await addItem("poison", 13)).status).toBe(201);
    expect((await addItem("poison", 4)).status).toBe(201);
    await waitFor(async () => (await tally("poison"))?.total === 4, {
      what: "the event after the poison one",
    });
    const admin = createRpcClient(nc, adminRpc("tally"));
    const dead = await waitFor(
      async () => (await admin.deadLetters({})).find((d) => d.error.includes("unlucky")),
      {
        what: "the dead letter",
      },
    );
    expect(dead.deliveries).toBe(3);
    expect(dead.consumer).toBe("fixture-tally-items");
  });

  test("rebuilding the projection from the stream gives the incrementally built state", async () => {
    const before = await consumer.store.db.select().from(schema.tallies);
    const admin = createRpcClient(nc, adminRpc("tally"));
    const { applied } = await admin.rebuild({ consumer: "fixture-tally-items" });
    expect(applied).toBeGreaterThan(0);
    const after = await consumer.store.db.select().from(schema.tallies);
    const byOwner = (rows: typeof before) =>
      Object.fromEntries(rows.map((r) => [r.owner, [r.total, r.events]]));
    expect(byOwner(after)).toEqual(byOwner(before));
  });

  test("the outbox backlog is reported and drains to zero", async () => {
    const admin = createRpcClient(nc, adminRpc("fixture"));
    await waitFor(async () => (await admin.outbox({})).count === 0, { what: "an empty backlog" });
  });
});

describe("relay batching", () => {
  test("takes the first unsent event of each aggregate, in commit order", () => {
    const rows = [
      { seq: 1, aggregate: "a" },
      { seq: 2, aggregate: "b" },
      { seq: 3, aggregate: "a" },
      { seq: 4, aggregate: "c" },
      { seq: 5, aggregate: "b" },
    ];
    expect(firstPerAggregate(rows, 10).map((r) => r.seq)).toEqual([1, 2, 4]);
    expect(firstPerAggregate(rows, 2).map((r) => r.seq)).toEqual([1, 2]);
  });
});

/** A store of the fixture's schema in a new temporary folder, with an outbox that wakes nobody (the test starts its own relay). */
async function relayStore(name: string) {
  const migrationsFolder = new URL("../testing/fixture/drizzle", import.meta.url).pathname;
  const url = defaultDatabaseUrl(mkdtempSync(join(tmpdir(), `ev-${name}-`)), name);
  const store = await openStore({ url, schema, migrationsFolder, logger: silentLogger });
  return { store, outboxOf: createOutbox(store, () => {}) };
}

/** The ids of `itemAdded` events of `owner` as they are published on the stream's subject, in arrival order. */
function publishedIds(owner: string): { ids: number[]; stop(): void } {
  const ids: number[] = [];
  const sub = nc.subscribe(eventSubject(itemAdded), {
    callback: (_err, msg) => {
      const event = msg.json<{ data: { id: number; owner: string } }>();
      if (event.data.owner === owner) ids.push(event.data.id);
    },
  });
  return { ids, stop: () => sub.unsubscribe() };
}

describe("relay lookahead", () => {
  test("a batch looks past a busy aggregate's events for other aggregates' first ones", async () => {
    const { store, outboxOf } = await relayStore("lookahead");
    // Six events of one aggregate, then one each of two others: a window of four rows holds only the busy one.
    const aggregates = ["busy", "busy", "busy", "busy", "busy", "busy", "x", "y"];
    await store.write(async (tx) => {
      for (const [i, aggregate] of aggregates.entries()) {
        await outboxOf.emit(tx, itemAdded, { id: 1000 + i, owner: "relay-lookahead", qty: 1 }, { aggregate });
      }
    });
    const published = publishedIds("relay-lookahead");
    const order = published.ids;
    const relay = new OutboxRelay({
      store,
      nc,
      logger: silentLogger,
      owner: "l",
      batchSize: 4,
    });
    relay.start();
    await waitFor(() => order.length === aggregates.length, { what: "every event published" });
    // x and y went with the busy aggregate's first event, not after its fourth.
    expect(order.slice(0, 3)).toEqual([1000, 1006, 1007]);
    // The busy aggregate's own events kept their order.
    expect(order.filter((i) => i < 1006)).toEqual([1000, 1001, 1002, 1003, 1004, 1005]);
    published.stop();
    await relay.stop();
    await store.close();
  });
});

describe("relay marks", () => {
  test("a batch marks sent exactly the rows it published, whether they run unbroken or not", async () => {
    const { store, outboxOf } = await relayStore("marks");
    // First batch: a's first, b, c (a's second waits its turn), so the rows sent are not a run of the outbox;
    // second batch: a's second alone, a run. Then one more commit: three aggregates, one event each.
    const waves = [
      ["a", "a", "b", "c"],
      ["d", "e", "f"],
    ];
    const published = publishedIds("relay-marks");
    const seen = published.ids;
    const relay = new OutboxRelay({ store, nc, logger: silentLogger, owner: "m", batchSize: 4, pollMs: 20 });
    let id = 0;
    for (const wave of waves) {
      await store.write(async (tx) => {
        for (const aggregate of wave) {
          await outboxOf.emit(tx, itemAdded, { id: id++, owner: "relay-marks", qty: 1 }, { aggregate });
        }
      });
      relay.start();
      await waitFor(async () => (await relay.backlog()).count === 0, { what: "the outbox drained" });
    }
    await waitFor(() => seen.length >= id, { what: "every event published" });
    // Each once: a row marked sent without being published would be missing, one published but not marked, repeated.
    expect(relay.published).toBe(id);
    expect([...seen].sort((x, y) => x - y)).toEqual([...Array(id).keys()]);
    // a's two events in their order.
    expect(seen.filter((n) => n < 2)).toEqual([0, 1]);
    published.stop();
    await relay.stop();
    await store.close();
  });
});

describe("relay durability", () => {
  test("an event is published only once the commit that wrote it is known durable", async () => {
    const { store, outboxOf } = await relayStore("relay");
    await store.write((tx) =>
      outboxOf.emit(tx, itemAdded, { id: 1, owner: "relay-durable", qty: 1 }, { aggregate: "1" }),
    );
    // The store holds back its "synced" until the test lets it go.
    let release = () => {};
    const released = new Promise<void>((r) => {
      release = r;
    });
    let asked = 0;
    const held = {
      ...store,
      synced: () => {
        asked++;
        return released.then(() => store.synced());
      },
    };
    const relay = new OutboxRelay({
      store: held,
      nc,
      logger: silentLogger,
      owner: "t",
      pollMs: 20,
    });
    relay.start();
    await waitFor(() => asked > 0, { what: "the relay to ask whether its rows are durable" });
    expect(relay.published).toBe(0);
    release();
    await waitFor(() => relay.published === 1, { what: "the event published" });
    await waitFor(async () => (await tally("relay-durable"))?.events === 1, { what: "the event applied" });
    await relay.stop();
    await store.close();
  });
});
