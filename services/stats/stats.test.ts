import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { adminRpc, createRpcClient, type RunningService, silentLogger, startService } from "@runnerly/kit";
import { meshFetch, NatsServer, waitFor } from "@runnerly/kit/testing";
import { service as runsService } from "@runnerly/runs/service.ts";
import type { MonthlyReport, PeriodTotal, PersonalBest, Summary, TrendPoint } from "./contract.ts";
import { totals } from "./db/schema.ts";
import { service as statsService } from "./service.ts";
import { isoWeek, monthOf } from "./totals.ts";

setDefaultTimeout(60_000);

let nats: NatsServer;
let nc: NatsConnection;
let runs: RunningService<Record<string, unknown>>;
let stats: RunningService<typeof import("./db/schema.ts")>;

const env = (prefix: string) => ({
  NATS_URL: nats.url,
  DATA_DIR: mkdtempSync(join(tmpdir(), prefix)),
  LOG_LEVEL: "silent",
});
const get = async <T>(path: string, user: string) =>
  (await (await meshFetch(nc, "stats", `/api/stats${path}`, { user })).json()) as T;
const logRun = async (user: string, distanceM: number, durationS: number, startedAt: string) => {
  const res = await meshFetch(nc, "runs", "/api/runs/runs", {
    method: "POST",
    user,
    json: { distanceM, durationS, startedAt },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string };
};

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  runs = (await startService(runsService, { env: env("runs-"), logger: silentLogger })) as never;
  stats = (await startService(statsService, { env: env("stats-"), logger: silentLogger })) as never;
});

afterAll(async () => {
  await stats?.stop();
  await runs?.stop();
  await nc?.close();
  await nats?.stop();
});

describe("totals from run events", () => {
  test("weekly and monthly totals, summary and streak follow logged, changed and deleted runs", async () => {
    const today = new Date();
    const day = (n: number, h = 7) =>
      new Date(
        Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - n, h),
      ).toISOString();
    const a = await logRun("uma", 10_000, 3000, day(0));
    await logRun("uma", 5000, 1600, day(1));
    await logRun("uma", 21_097.5, 6300, day(2));
    const s = await waitFor(
      async () => {
        const v = await get<Summary>("/summary", "uma");
        return v.runs === 3 ? v : null;
      },
      { what: "uma's three runs" },
    );
    expect(s.distanceM).toBe(36_097.5);
    expect(s.durationS).toBe(10_900);
    expect(s.longestRun?.distanceM).toBe(21_097.5);
    expect(s.currentStreakDays).toBe(3);
    expect(s.averagePaceSPerKm).toBeCloseTo(10_900 / 36.0975, 0);

    const weekly = await get<{ items: PeriodTotal[] }>("/weekly", "uma");
    expect(weekly.items.reduce((n, w) => n + w.runs, 0)).toBe(3);
    expect(weekly.items.map((w) => w.key)).toContain(isoWeek(day(0)));

    // Move the first run a year back: its week and month change.
    const moved = "2025-03-10T07:00:00.000Z";
    const patched = await meshFetch(nc, "runs", `/api/runs/runs/${a.id}`, {
      method: "PATCH",
      user: "uma",
      json: { startedAt: moved },
    });
    expect(patched.status).toBe(200);
    await waitFor(
      async () =>
        (await get<{ items: PeriodTotal[] }>("/monthly", "uma")).items.some((m) => m.key === "2025-03"),
      {
        what: "the moved run's month",
      },
    );
    const deleted = await meshFetch(nc, "runs", `/api/runs/runs/${a.id}`, { method: "DELETE", user: "uma" });
    expect(deleted.status).toBe(204);
    await waitFor(async () => (await get<Summary>("/summary", "uma")).runs === 2, { what: "the deletion" });
    const monthly = await get<{ items: PeriodTotal[] }>("/monthly", "uma");
    expect(monthly.items.map((m) => m.key)).not.toContain("2025-03");
  });

  test("personal bests and the weekly pace trend", async () => {
    await logRun("bea", 10_000, 3000, "2026-09-07T07:00:00Z");
    await logRun("bea", 5000, 1400, "2026-09-14T07:00:00Z");
    await logRun("bea", 21_097.5, 7000, "2026-09-21T07:00:00Z");
    const bests = await waitFor(
      async () => {
        const v = await get<{ items: PersonalBest[] }>("/bests", "bea");
        return v.items.length === 3 ? v.items : null;
      },
      { what: "bea's bests" },
    );
    const by = Object.fromEntries(bests.map((b) => [b.distance, b.timeS]));
    // 5 km: the 1400 s run beats 10 km at an even 1500 s; 10 km: the half at even pace (3317.9 s) loses to 3000 s.
    expect(by).toEqual({ "5k": 1400, "10k": 3000, half: 7000 });
    const trend = await get<{ items: TrendPoint[] }>("/trend?limit=3", "bea");
    expect(trend.items.map((t) => t.week)).toEqual(["2026-W37", "2026-W38", "2026-W39"]);
    expect(trend.items.map((t) => t.paceSPerKm)).toEqual([300, 280, Math.round((7000 / 21.0975) * 10) / 10]);
  });

  test("every route needs a caller, and bad input is a 400 problem", async () => {
    expect((await meshFetch(nc, "stats", "/api/stats/summary")).status).toBe(401);
    const bad = await meshFetch(nc, "stats", "/api/stats/weekly?limit=0", { user: "x" });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("query.limit");
    const badMonth = await meshFetch(nc, "stats", "/api/stats/reports", {
      method: "POST",
      user: "x",
      json: { month: "2026-13" },
    });
    expect(badMonth.status).toBe(400);
  });
});

describe("nothing lost, nothing applied twice", () => {
  test("1,000 runs written while NATS goes down and comes back: stats converges exactly", async () => {
    const user = "outage";
    const expected = { distance: 0, duration: 0, weeks: new Map<string, number>() };
    const statuses: number[] = [];
    const write = async (i: number) => {
      const distanceM = 1000 + (i % 37) * 100;
      const durationS = 300 + (i % 11) * 10;
      const startedAt = new Date(Date.UTC(2026, 0, 1) + i * 6 * 3600_000).toISOString();
      expected.distance += distanceM;
      expected.duration += durationS;
      expected.weeks.set(isoWeek(startedAt), (expected.weeks.get(isoWeek(startedAt)) ?? 0) + distanceM);
      // In-process, as a client on the service's own port would: no NATS needed to accept a write.
      const res = await runs.app.request("/api/runs/runs", {
        method: "POST",
        headers: { "content-type": "application/json", "mesh-user": user },
        body: JSON.stringify({ distanceM, durationS, startedAt }),
      });
      statuses.push(res.status);
    };
    for (let i = 0; i < 1000; i += 25) {
      if (i === 250) await nats.stop({ keepStore: true });
      if (i === 750) await nats.restart();
      await Promise.all(Array.from({ length: 25 }, (_, k) => write(i + k)));
    }
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    const s = await waitFor(
      async () => {
        const v = await get<Summary>("/summary", user);
        return v.runs === 1000 ? v : null;
      },
      { timeoutMs: 45_000, what: "all 1,000 runs in stats" },
    );
    expect(s.distanceM).toBe(expected.distance);
    expect(s.durationS).toBe(expected.duration);
    const weeks = await get<{ items: PeriodTotal[] }>("/weekly?limit=520", user);
    expect(Object.fromEntries(weeks.items.map((w) => [w.key, w.distanceM]))).toEqual(
      Object.fromEntries(expected.weeks),
    );
  });

  test("rebuilding the totals from the stream gives exactly the incremental totals", async () => {
    const snapshot = async () =>
      (await stats.store.db.select().from(totals)).map((t) => JSON.stringify(t)).sort();
    const before = await snapshot();
    const admin = createRpcClient(nc, adminRpc("stats"), { timeoutMs: 30_000 });
    const { applied } = await admin.rebuild({ consumer: "stats-update-totals" });
    expect(applied).toBeGreaterThanOrEqual(1000);
    expect(await snapshot()).toEqual(before);
  });
});

describe("monthly report: request now, answer by event (a task stats works and calls back)", () => {
  test("the requester gets report.ready with the month's figures", async () => {
    const user = "reporter";
    await logRun(user, 8000, 2400, "2026-10-05T07:00:00Z");
    await logRun(user, 12_000, 3900, "2026-10-19T07:00:00Z");
    await logRun(user, 5000, 1500, "2026-11-02T07:00:00Z");
    await waitFor(async () => (await get<Summary>("/summary", user)).runs === 3, {
      what: "the reporter's runs",
    });

    // The requester listens on the stats stream for the answer.
    const ready: MonthlyReport[] = [];
    const consumer = await jetstream(nc).consumers.get("EVENTS_STATS", {
      filter_subjects: "events.stats.report.ready",
    });
    const messages = await consumer.consume();
    void (async () => {
      for await (const m of messages) ready.push(m.json<{ data: MonthlyReport }>().data);
    })();

    const res = await meshFetch(nc, "stats", "/api/stats/reports", {
      method: "POST",
      user,
      json: { month: "2026-10" },
    });
    expect(res.status).toBe(202);
    const { reportId } = (await res.json()) as { reportId: string };
    const report = await waitFor(() => ready.find((r) => r.reportId === reportId), { what: "report.ready" });
    await messages.close();
    expect(report).toMatchObject({
      user,
      month: "2026-10",
      runs: 2,
      distanceM: 20_000,
      durationS: 6300,
      longestRunM: 12_000,
    });
    const polled = await get<{ status: string; report: MonthlyReport }>(`/reports/${reportId}`, user);
    expect(polled.status).toBe("ready");
    expect(polled.report).toEqual(report);
    expect(
      (await meshFetch(nc, "stats", `/api/stats/reports/${reportId}`, { user: "someone-else" })).status,
    ).toBe(404);
    expect(monthOf("2026-10-19T07:00:00Z")).toBe("2026-10");
    // The task went through the broker: worked once, its callback ran once.
    expect(ready.filter((r) => r.reportId === reportId)).toHaveLength(1);
  });

  test("a report followed as server-sent events ends with its ready figures", async () => {
    const user = "streamer";
    const asked = await meshFetch(nc, "stats", "/api/stats/reports", {
      method: "POST",
      user,
      json: { month: "2026-02" },
    });
    expect(asked.status).toBe(202);
    const { reportId } = (await asked.json()) as { reportId: string };
    // On the service's own port, as the edge's stream would reach it.
    const res = await stats.app.request(`/api/stats/reports/${reportId}`, {
      headers: { accept: "text/event-stream", "mesh-user": user },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = [...(await res.text()).matchAll(/^event: status\ndata: (.*)$/gm)].map(
      (m) => JSON.parse(m[1] as string) as { status: string; report: MonthlyReport | null },
    );
    expect(events.at(-1)).toMatchObject({
      reportId,
      status: "ready",
      report: { user, month: "2026-02", runs: 0 },
    });
    expect(events.slice(0, -1).every((e) => e.status === "pending")).toBe(true);
  });
});
