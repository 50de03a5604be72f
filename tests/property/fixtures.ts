/**
 * What the generators need from a running stack: the merged OpenAPI
 * document, a real caller (an access token), and resources that caller owns,
 * so that path parameters can name things that exist.
 */
import { postTo, signUpAndLogIn } from "../../services/accounts/test-support.ts";
import type { OpenApiDocument } from "./operations.ts";

export type Fixtures = {
  doc: OpenApiDocument;
  token: string;
  /** Ids the caller owns, by the path template that takes them. */
  ids: Record<string, string[]>;
};

async function call(
  base: string,
  path: string,
  init: RequestInit & { token?: string } = {},
): Promise<unknown> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  if (init.body) headers.set("content-type", "application/json");
  const res = await fetch(`${base}${path}`, { ...init, headers, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path} → ${res.status}: ${await res.text()}`);
  return res.json();
}

/** `count` resources created with POST `path`, returning their ids (`idKey` of each answer). */
async function create(base: string, token: string, path: string, body: object, idKey: string, count: number) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const made = (await call(base, path, { method: "POST", body: JSON.stringify(body), token })) as Record<
      string,
      string
    >;
    ids.push(made[idKey] as string);
  }
  return ids;
}

/**
 * Signs a runner up (and logs in) through the edge and gives them runs, a plan and a
 * report, so every `{id}` route has ids that reach its handler.
 *
 * @example
 * const fixtures = await prepareFixtures(stack.url);
 */
export async function prepareFixtures(base: string): Promise<Fixtures> {
  const doc = (await call(base, "/openapi.json")) as OpenApiDocument;
  const email = `fuzz-${crypto.randomUUID()}@example.com`;
  const { accessToken: token } = await signUpAndLogIn(postTo(base), email);
  const raceDate = new Date(Date.now() + 120 * 86_400_000).toISOString().slice(0, 10);
  const run = { distanceM: 10_000, durationS: 3000, startedAt: "2026-11-20T07:30:00Z" };
  const plan = { name: "Spring", raceDate, raceDistanceM: 42_195, goalTimeS: 12_600 };
  const runs = await create(base, token, "/api/runs/runs", run, "id", 6);
  const plans = await create(base, token, "/api/plans/plans", plan, "id", 4);
  const reports = await create(base, token, "/api/stats/reports", { month: "2026-11" }, "reportId", 2);
  return {
    doc,
    token,
    ids: {
      "/api/runs/runs/{id}": runs,
      "/api/runs/runs/{id}/gpx": runs,
      "/api/plans/plans/{id}": plans,
      "/api/stats/reports/{id}": reports,
    },
  };
}
