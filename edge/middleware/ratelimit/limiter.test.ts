/**
 * The limiter against real NATS KV buckets: exact sharing below the fast
 * path's threshold, no round trip in the steady state, the over-admission
 * bound under concurrent bursts on two connections, and local limiting when
 * JetStream is missing or the connection dies.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Kvm } from "@nats-io/kv";
import { NatsServer } from "@runnerly/kit/testing";
import { cleanups, connect, recordingLogger, waitFor } from "../../test-utils.ts";
import { RateLimiter } from "./limiter.ts";
import type { RatePolicy } from "./policy.ts";
import { KvBuckets } from "./shared-buckets.ts";

setDefaultTimeout(20_000);

let nats: NatsServer;
const cleanup = cleanups();

beforeAll(async () => {
  nats = await NatsServer.start();
});
afterEach(() => cleanup.run());
afterAll(() => nats?.stop());

const policy = (limit: number): RatePolicy => ({ name: "default", prefix: null, limit, windowMs: 3_600_000 });

/** A limiter on its own NATS connection, as each edge worker has. */
async function limiterOn(server: NatsServer, bucket: string, name = "edge") {
  const nc = await connect(server.url, name);
  cleanup.add(() => nc.close());
  const logger = recordingLogger();
  const shared = new KvBuckets({ nc, bucket, replicas: 1, longestWindowMs: 3_600_000, timeoutMs: 500 });
  return { nc, logger, limiter: new RateLimiter({ shared, logger }) };
}

const bucketName = () => `rl_${crypto.randomUUID().slice(0, 8)}`;

describe("shared through NATS KV", () => {
  test("below 1/localShare tokens every decision is exact across two connections", async () => {
    const bucket = bucketName();
    const a = await limiterOn(nats, bucket, "edge-a");
    const b = await limiterOn(nats, bucket, "edge-b");
    const p = policy(5);
    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push(await (i % 2 ? b : a).limiter.check(p, "addr:203.0.113.9"));
    expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 4],
      [true, 3],
      [true, 2],
      [true, 1],
      [true, 0],
    ]);
    for (const { limiter } of [a, b]) {
      const refused = await limiter.check(p, "addr:203.0.113.9");
      expect(refused.allowed).toBe(false);
      // 5 per hour: one token every 720 s.
      expect(refused.retryAfterSeconds).toBeGreaterThan(700);
    }
    // Another caller has its own bucket.
    expect((await a.limiter.check(p, "addr:203.0.113.10")).allowed).toBe(true);
  });

  test("in the steady state a request waits for no round trip; the shared bucket still counts it", async () => {
    const bucket = bucketName();
    const { nc, limiter } = await limiterOn(nats, bucket);
    const p = policy(1000);
    for (let i = 0; i < 20; i++) {
      expect((await limiter.check(p, "user:ann")).allowed).toBe(true);
      // Let the background take land, as it does between a client's requests.
      await waitFor(() => limiter.stats.syncing === 0, { what: "the background take" });
    }
    expect(limiter.stats).toMatchObject({ fast: 19, waited: 1, local: 0 });
    const kv = await new Kvm(nc).open(bucket);
    const keys = [];
    for await (const k of await kv.keys()) keys.push(k);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^user\.[0-9a-f]{32}$/);
    const stored = (await kv.get(keys[0]!))?.json<{ tokens: number }>();
    expect(Math.floor(stored!.tokens)).toBe(980);
  });

  test("concurrent bursts on two connections over-admit at most 2 × floor(limit / 16)", async () => {
    const bucket = bucketName();
    const a = await limiterOn(nats, bucket, "edge-a");
    const b = await limiterOn(nats, bucket, "edge-b");
    const p = policy(64);
    // Warm both views of the bucket, so both may take the fast path.
    await a.limiter.check(p, "user:bob");
    await b.limiter.check(p, "user:bob");
    const burst = (l: RateLimiter) => Array.from({ length: 100 }, () => l.check(p, "user:bob"));
    const results = await Promise.all([...burst(a.limiter), ...burst(b.limiter)]);
    const admitted = 2 + results.filter((d) => d.allowed).length;
    expect(admitted).toBeGreaterThanOrEqual(64);
    expect(admitted).toBeLessThanOrEqual(64 + 2 * Math.floor(64 / 16));
    expect(a.limiter.stats.local + b.limiter.stats.local).toBe(0);
    expect(a.limiter.stats.fast + b.limiter.stats.fast).toBeGreaterThan(0);
    await waitFor(() => a.limiter.stats.syncing + b.limiter.stats.syncing === 0, { what: "takes to land" });
    expect((await a.limiter.check(p, "user:bob")).allowed).toBe(false);
    expect((await b.limiter.check(p, "user:bob")).allowed).toBe(false);
  });
});

describe("without the shared bucket", () => {
  test("bucket off (shared: null): each limiter limits alone, silently; old callers are forgotten", async () => {
    const logger = recordingLogger();
    const limiter = new RateLimiter({ shared: null, logger, maxKeys: 10 });
    const p = policy(2);
    const allowed = [];
    for (let i = 0; i < 3; i++) allowed.push((await limiter.check(p, "addr:198.51.100.3")).allowed);
    expect(allowed).toEqual([true, true, false]);
    for (let i = 0; i < 30; i++) await limiter.check(p, `addr:192.0.2.${i}`);
    expect(limiter.size).toBeLessThanOrEqual(10);
    expect(logger.entries).toHaveLength(0);
  });

  test("no JetStream: each limiter limits alone, logs it once, and never throws", async () => {
    const plain = await NatsServer.start({ jetstream: false });
    cleanup.add(() => plain.stop());
    const { limiter, logger } = await limiterOn(plain, "edge_rate_limits");
    const p = policy(3);
    const allowed = [];
    for (let i = 0; i < 5; i++) allowed.push((await limiter.check(p, "addr:198.51.100.4")).allowed);
    expect(allowed).toEqual([true, true, true, false, false]);
    const warnings = logger.entries.filter((e) => e.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toContain("local to this worker");
  });

  test("a connection lost mid-way: the local bucket goes on from the last shared view", async () => {
    const own = await NatsServer.start();
    cleanup.add(() => own.stop());
    const { nc, limiter, logger } = await limiterOn(own, bucketName());
    const p = policy(5);
    for (let i = 0; i < 3; i++) expect((await limiter.check(p, "addr:198.51.100.5")).allowed).toBe(true);
    await nc.close();
    const after = [];
    for (let i = 0; i < 3; i++) after.push((await limiter.check(p, "addr:198.51.100.5")).allowed);
    // 2 tokens were left: a lost connection hands out no fresh quota.
    expect(after).toEqual([true, true, false]);
    expect(logger.entries.filter((e) => e.level === "warn")).toHaveLength(1);
  });
});
