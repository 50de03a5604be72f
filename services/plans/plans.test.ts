import { Database } from "bun:sqlite";
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
import type { PlanReport, PlanWithProgress } from "./contract.ts";
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

describe("season report: a task plans submits, stats works and plans' callback stores", () => {
  const reportOf = async (planId: string, user: string) => {
    const res = await plansCall(`/plans/${planId}/report`, { user });
    expect(res.status).toBe(200);
    return (await res.json()) as PlanReport;
  };
  const readyReport = (planId: string, user: string) =>
    waitFor(
      async () => {
        const r = await reportOf(planId, user);
        return r.status === "ready" ? r : null;
      },
      { timeoutMs: 15_000, what: "the season report ready" },
    );
  const logRun = async (user: string, distanceM: number, durationS: number, startedAt: string) => {
    const res = await meshFetch(nc, "runs", "/api/runs/runs", {
      method: "POST",
      user,
      json: { distanceM, durationS, startedAt },
    });
    expect(res.status).toBe(201);
  };
  /** The plans store's record of the tasks it submitted for a plan's reports. */
  const sentRows = (taskIds: string[]) => {
    const db = new Database(join(dirs.plans, "plans.db"), { readonly: true });
    try {
      return taskIds.map((id) =>
        db.query("SELECT task, owner, status, attempt FROM _mesh_tasks_sent WHERE id = ?").get(id),
      );
    } finally {
      db.close();
    }
  };
  const taskIdOf = (planId: string) => {
    const db = new Database(join(dirs.plans, "plans.db"), { readonly: true });
    try {
      return (
        db.query("SELECT task_id AS id FROM plan_reports WHERE plan_id = ?").get(planId) as { id: string }
      ).id;
    } finally {
      db.close();
    }
  };

  test("202 with Location; the status ends ready with the season's figures, stored once in plans' own table", async () => {
    const user = "sol";
    const plan = await createPlan(user);
    const now = Date.now();
    await logRun(user, 6000, 1800, new Date(now - 60_000).toISOString());
    await logRun(user, 4000, 1300, new Date(now - 120_000).toISOString());
    // Before the season: not counted.
    await logRun(user, 30_000, 9000, "2025-01-05T08:00:00Z");
    await waitFor(
      async () =>
        ((await (await meshFetch(nc, "stats", "/api/stats/summary", { user })).json()) as { runs: number })
          .runs === 3,
      { what: "stats counting sol's runs" },
    );
    const delivered = plans.taskResults!.counts.delivered;
    const asked = await plansCall(`/plans/${plan.id}/report`, { method: "POST", user });
    expect(asked.status).toBe(202);
    const location = asked.headers.get("location");
    expect(location).toBe(`/api/plans/plans/${plan.id}/report`);
    expect(((await asked.json()) as PlanReport).status).toBe("pending");

    const ready = await waitFor(
      async () => {
        const r = (await (await meshFetch(nc, "plans", location!, { user })).json()) as PlanReport;
        return r.status === "ready" ? r : null;
      },
      { timeoutMs: 15_000, what: "the season report ready" },
    );
    expect(ready.report).toMatchObject({
      from: plan.weeks[0]?.startsOn,
      to: plan.raceDate,
      runs: 2,
      distanceM: 10_000,
      durationS: 3100,
      longestRunM: 6000,
      paceSPerKm: 310,
    });
    expect(ready.report?.weeks.reduce((n, w) => n + w.runs, 0)).toBe(2);
    expect(ready.error).toBeNull();
    // Stored in plans' own database: the plan's report survives stats going away.
    expect(await reportOf(plan.id, user)).toEqual(ready);
    expect(plans.taskResults!.counts.delivered).toBe(delivered + 1);
    expect(sentRows([taskIdOf(plan.id)])).toEqual([
      { task: "report.season", owner: "stats", status: "done", attempt: 1 },
    ]);

    // Followed as server-sent events (on plans' own port, as the edge's stream reaches it): it ends ready at once.
    const streamed = await plans.app.request(`/api/plans/plans/${plan.id}/report`, {
      headers: { accept: "text/event-stream", "mesh-user": user },
    });
    expect(streamed.headers.get("content-type")).toContain("text/event-stream");
    const events = [...(await streamed.text()).matchAll(/^event: status\ndata: (.*)$/gm)];
    expect(events.map((m) => JSON.parse(m[1] as string))).toEqual([ready]);

    // Asked again once it ended: a new task, and the newer figures replace the old.
    await logRun(user, 5000, 1500, new Date(now - 180_000).toISOString());
    await waitFor(
      async () =>
        ((await (await meshFetch(nc, "stats", "/api/stats/summary", { user })).json()) as { runs: number })
          .runs === 4,
      { what: "stats counting the third run" },
    );
    const first = taskIdOf(plan.id);
    expect((await plansCall(`/plans/${plan.id}/report`, { method: "POST", user })).status).toBe(202);
    const again = await waitFor(
      async () => {
        const r = await reportOf(plan.id, user);
        return r.status === "ready" && r.report?.runs === 3 ? r : null;
      },
      { timeoutMs: 15_000, what: "the second report" },
    );
    expect(again.report?.distanceM).toBe(15_000);
    expect(taskIdOf(plan.id)).not.toBe(first);
  });

  test("asked while stats is down, the report waits in the broker, is asked once, and is ready when stats is back", async () => {
    const user = "wait";
    const plan = await createPlan(user);
    await stats!.stop();
    stats = null;
    const first = await plansCall(`/plans/${plan.id}/report`, { method: "POST", user });
    expect(first.status).toBe(202);
    const pending = (await first.json()) as PlanReport;
    expect(pending.status).toBe("pending");
    // A second ask while it is pending is the same request, not another task.
    const second = await plansCall(`/plans/${plan.id}/report`, { method: "POST", user });
    expect(second.status).toBe(202);
    expect(await second.json()).toEqual(pending);
    expect((await reportOf(plan.id, user)).status).toBe("pending");

    stats = (await startService(statsService, { env: env(dirs.stats), logger: silentLogger })) as never;
    const ready = await readyReport(plan.id, user);
    expect(ready.report).toMatchObject({ runs: 0, distanceM: 0, weeks: [] });
    expect(sentRows([taskIdOf(plan.id)])).toEqual([
      { task: "report.season", owner: "stats", status: "done", attempt: 1 },
    ]);
  });

  test("an unknown plan, another runner's plan and a report never asked for are 404 problems", async () => {
    const plan = await createPlan("keeper");
    const unknown = crypto.randomUUID();
    const cases: [string, string, string][] = [
      ["POST", unknown, "keeper"],
      ["GET", unknown, "keeper"],
      ["POST", plan.id, "snoop"],
      ["GET", plan.id, "snoop"],
      ["GET", plan.id, "keeper"],
    ];
    for (const [method, id, user] of cases) {
      const res = await plansCall(`/plans/${id}/report`, { method, user });
      expect({ method, id, user, status: res.status }).toEqual({ method, id, user, status: 404 });
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
    expect((await plansCall("/plans/not-a-uuid/report", { method: "POST", user: "keeper" })).status).toBe(
      400,
    );
    expect((await plansCall(`/plans/${plan.id}/report`, { method: "POST" })).status).toBe(401);

    // The snoop asked nothing on the keeper's behalf; deleting the plan removes its report.
    expect((await plansCall(`/plans/${plan.id}/report`, { method: "POST", user: "keeper" })).status).toBe(
      202,
    );
    await readyReport(plan.id, "keeper");
    expect((await plansCall(`/plans/${plan.id}`, { method: "DELETE", user: "keeper" })).status).toBe(204);
    expect((await plansCall(`/plans/${plan.id}/report`, { user: "keeper" })).status).toBe(404);
  });
});
