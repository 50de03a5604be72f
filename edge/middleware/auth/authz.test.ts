/**
 * Object-level authorisation through the whole stack (OWASP API1): for every
 * route that takes an id, another runner gets a 404, and the owner's data is
 * untouched. Real tokens, real edge, real services.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { freshEmail, postTo, signUpAndLogIn } from "../../../services/accounts/test-support.ts";
import { sampleGpx } from "../../web/testdata/gpx.ts";
import { startWebStack, type WebStack } from "../../web/testdata/stack.ts";

setDefaultTimeout(60_000);

let stack: WebStack;
beforeAll(async () => {
  stack = await startWebStack();
}, 60_000);
afterAll(() => stack?.stop());

/** A new runner's access token, through the edge. */
async function signup(name: string): Promise<string> {
  return (await signUpAndLogIn(postTo(stack.url), freshEmail(name))).accessToken;
}

const call = (token: string, method: string, path: string, body?: BodyInit, type = "application/json") =>
  fetch(`${stack.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body && typeof body === "string" ? { "content-type": type } : {}),
    },
    ...(body ? { body } : {}),
  });

const gpxForm = () => {
  const form = new FormData();
  const { xml } = sampleGpx({ start: new Date(Date.now() - 3_600_000), km: 3, paceSPerKm: 300 });
  form.append("file", new File([xml], "run.gpx", { type: "application/gpx+xml" }));
  return form;
};

test("every route that takes an id answers 404 to another runner, and changes nothing", async () => {
  const alice = await signup("alice");
  const bob = await signup("bob");
  const run = (await (
    await call(
      alice,
      "POST",
      "/api/runs/runs",
      JSON.stringify({ distanceM: 5000, durationS: 1500, startedAt: new Date().toISOString() }),
    )
  ).json()) as { id: string };
  const raceDate = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
  const plan = (await (
    await call(
      alice,
      "POST",
      "/api/plans/plans",
      JSON.stringify({ name: "A", raceDate, raceDistanceM: 10_000, goalTimeS: 3000 }),
    )
  ).json()) as { id: string };
  const report = (await (
    await call(alice, "POST", "/api/stats/reports", JSON.stringify({ month: "2026-11" }))
  ).json()) as {
    reportId: string;
  };

  const routes: [string, string, () => BodyInit | undefined][] = [
    ["GET", `/api/runs/runs/${run.id}`, () => undefined],
    ["PATCH", `/api/runs/runs/${run.id}`, () => JSON.stringify({ notes: "bob was here" })],
    ["PUT", `/api/runs/runs/${run.id}/gpx`, gpxForm],
    ["DELETE", `/api/runs/runs/${run.id}`, () => undefined],
    ["GET", `/api/plans/plans/${plan.id}`, () => undefined],
    ["PATCH", `/api/plans/plans/${plan.id}`, () => JSON.stringify({ name: "bob's now" })],
    ["DELETE", `/api/plans/plans/${plan.id}`, () => undefined],
    ["GET", `/api/stats/reports/${report.reportId}`, () => undefined],
  ];
  const statuses: Record<string, number> = {};
  for (const [method, path, body] of routes) {
    const res = await call(bob, method, path, body());
    statuses[`${method} ${path}`] = res.status;
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  }
  expect(statuses).toEqual(Object.fromEntries(routes.map(([m, p]) => [`${m} ${p}`, 404])));

  // Alice's run and plan are as she left them.
  const mine = (await (await call(alice, "GET", `/api/runs/runs/${run.id}`)).json()) as {
    notes: string;
    distanceM: number;
  };
  expect(mine).toMatchObject({ notes: "", distanceM: 5000 });
  const myPlan = (await (await call(alice, "GET", `/api/plans/plans/${plan.id}`)).json()) as { name: string };
  expect(myPlan.name).toBe("A");
  // Bob's lists don't show them.
  const bobs = (await (await call(bob, "GET", "/api/runs/runs")).json()) as { items: unknown[] };
  expect(bobs.items).toEqual([]);
});
