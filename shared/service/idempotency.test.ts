import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { silentLogger } from "../log/logger.ts";
import { fixtureService } from "../testing/fixture/service.ts";
import { meshFetch } from "../testing/mesh-fetch.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { type RunningService, startService } from "./index.ts";

let nats: NatsServer;
let nc: NatsConnection;
const instances: RunningService<Record<string, unknown>>[] = [];

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  const env = { NATS_URL: nats.url, DATA_DIR: mkdtempSync(join(tmpdir(), "idem-")), LOG_LEVEL: "silent" };
  for (let i = 0; i < 2; i++)
    instances.push((await startService(fixtureService(), { env, logger: silentLogger })) as never);
});

afterAll(async () => {
  for (const s of instances) await s.stop();
  await nc?.close();
  await nats?.stop();
});

const post = (
  user: string,
  key: string | undefined,
  json: unknown,
  query = "",
  timeoutMs = 5000,
  deadlineMs = timeoutMs,
) =>
  meshFetch(nc, "fixture", `/api/fixture/items${query}`, {
    method: "POST",
    json,
    user,
    timeoutMs,
    deadlineMs,
    headers: key === undefined ? {} : { "idempotency-key": key },
  });
const count = async (user: string) =>
  ((await (await meshFetch(nc, "fixture", "/api/fixture/count", { user })).json()) as { count: number })
    .count;

describe("Idempotency-Key", () => {
  test("a repeated POST is replayed, not applied again", async () => {
    const first = await post("u1", "k-1", { name: "a", qty: 1 });
    const again = await post("u1", "k-1", { name: "a", qty: 1 });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(await first.json());
    expect(await count("u1")).toBe(1);
  });

  test("without a key every POST applies", async () => {
    await post("u2", undefined, { name: "a", qty: 1 });
    await post("u2", undefined, { name: "a", qty: 1 });
    expect(await count("u2")).toBe(2);
  });

  test("keys are per caller", async () => {
    await post("u3", "shared-key", { name: "a", qty: 1 });
    await post("u4", "shared-key", { name: "a", qty: 1 });
    expect(await count("u3")).toBe(1);
    expect(await count("u4")).toBe(1);
  });

  test("the same key with a different body is a 422 problem", async () => {
    await post("u5", "k-5", { name: "a", qty: 1 });
    const res = await post("u5", "k-5", { name: "b", qty: 2 });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await count("u5")).toBe(1);
  });

  test("a malformed key is a 400 problem", async () => {
    const res = await post("u6", "bad key with spaces", { name: "a", qty: 1 });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("header.Idempotency-Key");
  });

  test("concurrent duplicates across two instances create exactly one record", async () => {
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => post("u7", "k-7", { name: "a", qty: 7 })),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(201));
    const ids = new Set(await Promise.all(replies.map(async (r) => ((await r.json()) as { id: number }).id)));
    expect(ids.size).toBe(1);
    expect(await count("u7")).toBe(1);
  });

  test("a retry after a lost reply replays the committed result", async () => {
    // The first attempt commits within its deadline, but its reply comes after the caller stopped listening.
    const lost = await post("u8", "k-8", { name: "a", qty: 1 }, "?sleep=400", 100, 5000).catch((e) => e);
    expect(lost).toBeInstanceOf(Error);
    // The retry waits for the first attempt's transaction, then replays its result.
    const retry = await post("u8", "k-8", { name: "a", qty: 1 }, "?sleep=400", 2000);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(await count("u8")).toBe(1);
  });

  test("an attempt still working at its deadline is rolled back with a 504, so the retry applies it once", async () => {
    const late = await post("u10", "k-10", { name: "a", qty: 1 }, "?sleep=400", 2000, 100);
    expect(late.status).toBe(504);
    expect(((await late.json()) as { detail: string }).detail).toContain("nothing was stored");
    expect(await count("u10")).toBe(0);
    const retry = await post("u10", "k-10", { name: "a", qty: 1 });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    expect(await count("u10")).toBe(1);
  });

  test("a 5xx is not recorded and its effects roll back, so a retry can succeed", async () => {
    const failed = await post("u9", "k-9", { name: "a", qty: 1 }, "?fail=500");
    expect(failed.status).toBe(500);
    expect(await count("u9")).toBe(0);
    const ok = await post("u9", "k-9", { name: "a", qty: 1 }, "?fail=500".replace("500", "no"));
    expect(ok.status).toBe(201);
    expect(await count("u9")).toBe(1);
  });
});
