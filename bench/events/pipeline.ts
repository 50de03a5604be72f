/**
 * The event pipeline's rate, beside raw JetStream measured in the same run
 * (a warm-up pair, then pairs of runs on a fresh server each, raw first; the
 * figures are medians, the ratio the median of the pairs' ratios):
 * - raw: N messages published with async PubAcks (a window of 256 in flight)
 *   to a stream and read back by a durable pull consumer with explicit acks;
 * - pipeline: N state changes, each one SQLite transaction that writes a row
 *   and its event to the outbox (kit fixture service), up to 256 in flight as
 *   many clients' requests would be (concurrent ones share a group commit),
 *   relayed to the stream and applied exactly once by a consumer service
 *   (inbox + projection write), timed from the first commit to the last event
 *   applied.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { type Db, preparedPer, silentLogger, startService } from "@runnerly/kit";
import { NatsServer, waitFor } from "@runnerly/kit/testing";
import { fixtureService, itemAdded, fixtureSchema as schema } from "@runnerly/kit/testing/fixture";
import { eq } from "drizzle-orm";
import { median } from "../lib/stats.ts";

/** State changes (and raw publishes) in flight at once. */
const WINDOW = 256;

export type EventRates = {
  count: number;
  /** Each pair's pipeline ÷ raw, in run order. */
  ratios: number[];
  rawPerSec: number;
  pipelinePerSec: number;
  /** State changes committed per second (a transaction each; concurrent ones share an fsync). */
  commitPerSec: number;
  /** From the last commit to the last event applied. */
  drainMs: number;
  ratio: number;
};

/** Publishes and consumes `count` raw JetStream messages; returns messages per second end to end. */
async function rawJetStream(url: string, count: number): Promise<number> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "BENCH_RAW", subjects: ["bench.raw.>"] });
  await jsm.consumers.add("BENCH_RAW", { durable_name: "raw", ack_policy: AckPolicy.Explicit });
  const js = jetstream(nc);
  const consumer = await js.consumers.get("BENCH_RAW", "raw");
  const body = JSON.stringify({
    id: "x",
    type: "item.added",
    version: 1,
    occurredAt: "",
    data: { id: 1, owner: "o", qty: 1 },
  });
  const started = performance.now();
  let received = 0;
  const done = (async () => {
    const messages = await consumer.consume({ max_messages: 512 });
    for await (const m of messages) {
      m.ack();
      if (++received >= count) break;
    }
  })();
  const window: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    window.push(js.publish("bench.raw.item", body, { msgID: `raw-${i}` }));
    if (window.length >= WINDOW) await Promise.all(window.splice(0));
  }
  await Promise.all(window);
  await done;
  const seconds = (performance.now() - started) / 1000;
  await nc.close();
  return count / seconds;
}

// The state change of every round: compiled once, as the reference services' writes are.
const addItem = preparedPer((tx: Db<typeof schema>) =>
  tx.insert(schema.items).values({ owner: "bench", name: "i", qty: 1 }).returning().prepare(),
);

/** Commits `count` state changes with their events and waits until a consumer service applied all of them. */
async function outboxPipeline(
  url: string,
  count: number,
): Promise<{ perSec: number; commitPerSec: number; drainMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), "bench-events-"));
  const env = (name: string) => ({ NATS_URL: url, DATA_DIR: join(dir, name), LOG_LEVEL: "silent" });
  const producer = await startService(fixtureService(), { env: env("p"), logger: silentLogger });
  const consumer = await startService(fixtureService("tally", "1.0.0", { consume: true }), {
    env: env("c"),
    logger: silentLogger,
  });
  const change = () =>
    producer.store.write(async (tx) => {
      const item = (await addItem(tx).get({})) as typeof schema.items.$inferSelect;
      await producer.outbox.emit(
        tx,
        itemAdded,
        { id: item.id, owner: "bench", qty: 1 },
        { aggregate: String(item.id) },
      );
    });
  const started = performance.now();
  // Up to WINDOW state changes in flight, as requests of many clients would be (the raw side
  // keeps its publishes in flight the same way); each is still its own transaction.
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(WINDOW, count) }, async () => {
      while (next < count) {
        next++;
        await change();
      }
    }),
  );
  const committed = performance.now();
  await waitFor(
    async () => {
      const row = await consumer.store.db
        .select()
        .from(schema.tallies)
        .where(eq(schema.tallies.owner, "bench"))
        .get();
      return row?.events === count;
    },
    { timeoutMs: 120_000, intervalMs: 5, what: "every event applied" },
  );
  const finished = performance.now();
  await consumer.stop();
  await producer.stop();
  rmSync(dir, { recursive: true, force: true });
  return {
    perSec: count / ((finished - started) / 1000),
    commitPerSec: count / ((committed - started) / 1000),
    drainMs: Math.round(finished - committed),
  };
}

/** One pair: raw JetStream, then the pipeline, on a fresh JetStream server; `count` events each. */
async function measurePair(count: number): Promise<Omit<EventRates, "ratios">> {
  const nats = await NatsServer.start();
  try {
    const rawPerSec = await rawJetStream(nats.url, count);
    const pipeline = await outboxPipeline(nats.url, count);
    return {
      count,
      rawPerSec,
      pipelinePerSec: pipeline.perSec,
      commitPerSec: pipeline.commitPerSec,
      drainMs: pipeline.drainMs,
      ratio: pipeline.perSec / rawPerSec,
    };
  } finally {
    await nats.stop();
  }
}

/**
 * Measures a warm-up pair, not counted, then `pairs` pairs (a single one
 * lasts a fraction of a second, so one pair alone moves with whatever else
 * the machine did then); `onPair` hears each as it ends, the warm-up as
 * index -1. Without the warm-up the raw side ran first in a cold process
 * (its JIT not yet warm) and measured about half its warm rate, which
 * flattered the ratio.
 *
 * @example
 * const r = await measureEventRates(20_000, 3); // { rawPerSec, pipelinePerSec, ratio, ratios }
 */
export async function measureEventRates(
  count = 20_000,
  pairs = 3,
  onPair?: (index: number, pair: Omit<EventRates, "ratios">) => void,
): Promise<EventRates> {
  onPair?.(-1, await measurePair(count));
  const done: Omit<EventRates, "ratios">[] = [];
  for (let i = 0; i < pairs; i++) {
    const pair = await measurePair(count);
    done.push(pair);
    onPair?.(i, pair);
  }
  const mid = (f: (p: Omit<EventRates, "ratios">) => number) => median(done.map(f));
  return {
    count,
    ratios: done.map((p) => p.ratio),
    rawPerSec: mid((p) => p.rawPerSec),
    pipelinePerSec: mid((p) => p.pipelinePerSec),
    commitPerSec: mid((p) => p.commitPerSec),
    drainMs: mid((p) => p.drainMs),
    ratio: mid((p) => p.ratio),
  };
}

/** A pair's progress line: which pair (`index` -1 is the warm-up) and its figures. */
export function pairProgress(index: number, pairs: number, p: Omit<EventRates, "ratios">): string {
  return `${index < 0 ? "warm-up pair" : `pair ${index + 1}/${pairs}`}: ${pairLine(p)}`;
}

/** One pair's figures on a line. */
export function pairLine(p: Omit<EventRates, "ratios">): string {
  return `raw JetStream publish+consume: ${Math.round(p.rawPerSec)} msg/s; outbox → consumer applied: ${Math.round(p.pipelinePerSec)} events/s (${(p.ratio * 100).toFixed(1)} % of raw); commits ${Math.round(p.commitPerSec)}/s; last event applied ${Math.round(p.drainMs)} ms after the last commit`;
}

if (import.meta.main) {
  const count = Number(process.argv[2] ?? 20_000);
  const pairs = Number(process.argv[3] ?? 1);
  console.log(
    `› measuring the event pipeline with ${count} events, ${pairs} pair(s) of runs (raw JetStream first)…`,
  );
  const r = await measureEventRates(count, pairs, (i, p) => console.log(pairProgress(i, pairs, p)));
  if (pairs > 1) console.log(`median: ${pairLine(r)}`);
}
