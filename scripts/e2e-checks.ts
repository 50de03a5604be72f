/**
 * End-to-end checks through the edge of a running stack, shared by the tests
 * of both layouts (scripts/dev.test.ts: a process per service;
 * scripts/single.test.ts: one process, a worker per service), so each layout
 * passes the same ones.
 */
import { expect } from "bun:test";
import { waitFor } from "@runnerly/kit/testing";
import { postTo, signUpAndLogIn } from "../services/accounts/test-support.ts";

const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/**
 * The edge routes to a service, and answers problems for what it can't serve:
 * a health check 200, a 401 problem without a token, a 404 problem for an
 * unknown prefix.
 *
 * @example
 * await checkEdgeServes("http://127.0.0.1:8787");
 */
export async function checkEdgeServes(edge: string): Promise<void> {
  const health = await fetch(`${edge}/api/runs/healthz`);
  expect(health.status).toBe(200);

  const anonymous = await fetch(`${edge}/api/runs/runs`);
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get("content-type")).toContain("application/problem+json");

  const unknown = await fetch(`${edge}/api/nope`);
  expect(unknown.status).toBe(404);
  expect(unknown.headers.get("content-type")).toContain("application/problem+json");
}

/**
 * A runner's journey across every service: signs up and logs in (accounts
 * issues the token the edge verifies), logs a run (runs, which publishes `run.logged`),
 * sees it in the totals (stats, from the event) and in a training plan's
 * progress (plans, asking stats by RPC).
 *
 * @example
 * await checkRunnerJourney("http://127.0.0.1:8787");
 */
export async function checkRunnerJourney(edge: string): Promise<void> {
  const { accessToken } = await signUpAndLogIn(postTo(edge), `runner-${crypto.randomUUID()}@example.com`);
  const headers = { authorization: `Bearer ${accessToken}`, "content-type": "application/json" };

  const logged = await fetch(`${edge}/api/runs/runs`, {
    method: "POST",
    headers,
    body: JSON.stringify({ distanceM: 8000, durationS: 2400, startedAt: new Date().toISOString() }),
  });
  expect(logged.status).toBe(201);
  const run = await json<{ id: string }>(logged);
  const list = await json<{ items: { id: string }[] }>(await fetch(`${edge}/api/runs/runs`, { headers }));
  expect(list.items.map((r) => r.id)).toEqual([run.id]);

  const summary = await waitFor(
    async () => {
      const s = await json<{ runs: number; distanceM: number }>(
        await fetch(`${edge}/api/stats/summary`, { headers }),
      );
      return s.runs === 1 ? s : null;
    },
    { timeoutMs: 15_000, intervalMs: 100, what: "stats to count the run (run.logged event)" },
  );
  expect(summary.distanceM).toBe(8000);

  const created = await fetch(`${edge}/api/plans/plans`, {
    method: "POST",
    headers,
    body: JSON.stringify({
      name: "Spring 10k",
      raceDate: inDays(60),
      raceDistanceM: 10_000,
      goalTimeS: 2700,
    }),
  });
  expect(created.status).toBe(201);
  const plan = await json<{ id: string }>(created);
  type Progressed = {
    degraded: boolean;
    progress: { weeks: { doneM: number }[]; completion: number } | null;
  };
  const progressed = await waitFor(
    async () => {
      const p = await json<Progressed>(await fetch(`${edge}/api/plans/plans/${plan.id}`, { headers }));
      return p.progress?.weeks[0]?.doneM === 8000 ? p : null;
    },
    { timeoutMs: 15_000, intervalMs: 100, what: "the plan's progress from stats (RPC)" },
  );
  expect(progressed.degraded).toBe(false);
  expect(progressed.progress?.completion).toBeGreaterThan(0);
}
