/**
 * The benchmark's runner, as a client of the shipped stack: signs up and logs
 * in through the edge (the accounts API) and logs runs (the runs API), so the
 * rows read data that got there the way users' data does, not through the DB.
 */
import type { SignupAccepted, SignupInput, TokenResponse } from "../../services/accounts/contract.ts";
import type { Run, RunInput } from "../../services/runs/contract.ts";

/** The one runner every stack row acts as. */
export const BENCH_RUNNER = {
  email: "bench@runnerly.test",
  password: "bench Runner 2026",
  displayName: "Bench",
} satisfies SignupInput;

/** The run the POST row logs, again and again (every request creates a row and a `run.logged` event). */
export const BENCH_RUN = {
  distanceM: 10_000,
  durationS: 3000,
  startedAt: "2026-11-20T07:30:00Z",
  kind: "easy",
  notes: "bench",
} satisfies RunInput;

/** Seeding sends this many requests at a time. */
const IN_FLIGHT = 8;

async function call<T>(
  base: string,
  method: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/**
 * Creates the bench runner's account (a fresh data dir has none).
 *
 * @example
 * await signUp(stack.base);
 */
export async function signUp(base: string): Promise<void> {
  await call<SignupAccepted>(base, "POST", "/api/accounts/signup", BENCH_RUNNER);
}

/**
 * Logs the bench runner in; returns a fresh access token (it lives 15 minutes,
 * so the suite logs in again before each row).
 *
 * @example
 * const token = await logIn(stack.base);
 */
export async function logIn(base: string): Promise<string> {
  const input = { email: BENCH_RUNNER.email, password: BENCH_RUNNER.password };
  return (await call<TokenResponse>(base, "POST", "/api/accounts/login", input)).accessToken;
}

/**
 * Logs `count` runs, an hour apart, through `POST /api/runs/runs`; returns their ids.
 *
 * @example
 * const ids = await logRuns(stack.base, token, 300);
 */
export async function logRuns(base: string, token: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  const first = Date.parse("2026-01-01T06:00:00Z");
  for (let i = 0; i < count; i += IN_FLIGHT) {
    const batch = Array.from({ length: Math.min(IN_FLIGHT, count - i) }, (_, j) => {
      const startedAt = new Date(first + (i + j) * 3_600_000).toISOString();
      return call<Run>(base, "POST", "/api/runs/runs", { ...BENCH_RUN, startedAt }, token);
    });
    for (const run of await Promise.all(batch)) ids.push(run.id);
  }
  return ids;
}
