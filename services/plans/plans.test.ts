import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { type RunningService, silentLogger, startService } from "@runnerly/kit";
import { meshFetch, NatsServer, waitFor } from "@runnerly/kit/testing";
import { service as runsService } from "@runnerly/runs/service.ts";
import { service as statsService } from "@runnerly/stats/service.ts";
import type { PlanWithProgress } from "./contract.ts";
import { service as plansService } from "./service.ts";

setDefaultTimeout(30_000);

let nats: NatsServer;
let nc: NatsConnection;
const dirs = { runs: "", stats: "", plans: "" };
let runs: RunningService<Record<string, unknown>>;
let stats: RunningService<Record<string, unknown>> | null;
let plans: RunningService<Record<string, unknown>>;

const env = (dir: string) => ({ NATS_URL: nats.url, DATA_DIR: dir, LOG_LEVEL: "silent" });
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
const plansCall = (path: string, init: Parameters<typeof meshFetch>[3] = {}) =>
  meshFetch(nc, "plans", `/api/plans${path}`, init);

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  for (const k of Object.keys(dirs) as (keyof typeof dirs)[])
    dirs[k] = mkdtempSync(join(tmpdir(), `plans-${k}-`));
  runs = (await startService(runsService, { env: env(dirs.runs), logger: silentLogger })) as never;
  stats = (await startService(statsService, { env: env(dirs.stats), logger: silentLogger })) as never;
  plans = (await startService(plansService, { env: env(dirs.plans), logger: silentLogger })) as never;
});

afterAll(async () => {
  await plans?.stop();
  await stats?.stop();
  await runs?.stop();
  await nc?.close();
  await nats?.stop();
});

async function createPlan(user: string): Promise<PlanWithProgress> {
  const res = await plansCall("/plans", {
    method: "POST",
    user,
    json: { name: "Spring 10k", raceDate: inDays(60), raceDistanceM: 10_000, goalTimeS: 2700 },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as PlanWithProgress;
}

describe("plans", () => {
  test("a plan's progress comes from stats; without stats it is still served, degraded", async () => {
    const plan = await createPlan("pia");
    expect(plan.weeks.length).toBeGreaterThanOrEqual(9);
    expect(plan.degraded).toBe(false);
    const run = await meshFetch(nc, "runs", "/api/runs/runs", {
      method: "POST",
      user: "pia",
      json: { distanceM: 8000, durationS: 2400, startedAt: new Date().toISOString() },
    });
    expect(run.status).toBe(201);
    const withProgress = await waitFor(
      async () => {
        const p = (await (await plansCall(`/plans/${plan.id}`, { user: "pia" })).json()) as PlanWithProgress;
        return p.progress?.weeks[0]?.doneM === 8000 ? p : null;
      },
      { what: "progress from stats" },
    );
    expect(withProgress.progress?.completion).toBeGreaterThan(0);

    await stats!.stop();
    stats = null;
    const started = Date.now();
    const degraded = await plansCall(`/plans/${plan.id}`, { user: "pia" });
    expect(degraded.status).toBe(200);
    const body = (await degraded.json()) as PlanWithProgress;
    expect(body).toMatchObject({ id: plan.id, degraded: true, progress: null });
    expect(body.weeks).toEqual(plan.weeks);
    expect(Date.now() - started).toBeLessThan(2000);

    stats = (await startService(statsService, { env: env(dirs.stats), logger: silentLogger })) as never;
    const back = await waitFor(
      async () => {
        const p = (await (await plansCall(`/plans/${plan.id}`, { user: "pia" })).json()) as PlanWithProgress;
        return p.degraded ? null : p;
      },
      { what: "progress back" },
    );
    expect(back.progress?.weeks[0]?.doneM).toBe(8000);
  });

  test("another runner's plan is a 404 for read, update and delete", async () => {
    const plan = await createPlan("owner");
    for (const [method, json] of [["GET"], ["PATCH", { name: "mine now" }], ["DELETE"]] as const) {
      const res = await plansCall(`/plans/${plan.id}`, {
        method,
        user: "intruder",
        ...(json ? { json } : {}),
      });
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
    const list = (await (await plansCall("/plans", { user: "intruder" })).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
    expect((await plansCall(`/plans/${plan.id}`, { user: "owner" })).status).toBe(200);
  });

  test("changing the goal time regenerates the schedule; delete removes it", async () => {
    const plan = await createPlan("editor");
    const patched = await plansCall(`/plans/${plan.id}`, {
      method: "PATCH",
      user: "editor",
      json: { goalTimeS: 2400 },
    });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as PlanWithProgress).weeks[0]?.goalPaceSPerKm).toBe(240);
    expect((await plansCall(`/plans/${plan.id}`, { method: "DELETE", user: "editor" })).status).toBe(204);
    expect((await plansCall(`/plans/${plan.id}`, { user: "editor" })).status).toBe(404);
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ["race in the past", { raceDate: "2020-01-01" }, "body.raceDate"],
    ["race too far", { raceDate: inDays(500) }, "body.raceDate"],
    ["not a date", { raceDate: "soon" }, "body.raceDate"],
    ["tiny distance", { raceDistanceM: 10 }, "body.raceDistanceM"],
    ["negative goal", { goalTimeS: -5 }, "body.goalTimeS"],
    ["extra field", { owner: "x" }, "owner"],
  ];
  for (const [label, change, field] of bad) {
    test(`400 problem: ${label}`, async () => {
      const json = { name: "x", raceDate: inDays(30), raceDistanceM: 5000, goalTimeS: 1500, ...change };
      const res = await plansCall("/plans", { method: "POST", user: "v", json });
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toContain(field);
    });
  }
});
