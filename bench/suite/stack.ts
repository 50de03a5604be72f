/**
 * The shipped stack as users run it (`npm run dev`: NATS users, token
 * verification on, every service): a public GET, an authenticated GET by id
 * and list, and a POST that stores a run and its event, all through the edge.
 * The data is seeded through the API; CPU is split into edge (supervisor and
 * workers), nats-server, runs and the others (accounts, stats, plans, the launcher).
 * A row with a Moleculer partner (lib/pairs.ts) alternates its runs with the partner's.
 */
import type { BenchContext } from "../lib/context.ts";
import { wrkDriver } from "../lib/drivers.ts";
import { measure, measurePaired, type Scenario, wanted } from "../lib/measure.ts";
import { type RealStack, startRealStack } from "../lib/real-stack.ts";
import { BENCH_RUN, logIn, logRuns, signUp } from "../lib/stack-client.ts";
import { requestScript, type ScriptedRequest } from "../lib/wrk-scripts.ts";
import { record, type SuiteResults } from "./results.ts";

/** Runs seeded for the bench runner; the GET by id picks one at random. */
export const STACK_RUNS = 300;

type StackRow = {
  id: string;
  label: string;
  what: string;
  request: (token: string, ids: string[]) => ScriptedRequest;
};

/** The rows, in the order they run (the POST last: it adds rows the reads would otherwise see). */
export const STACK_ROWS: StackRow[] = [
  {
    id: "stack-public",
    label: "stack: public GET (runs healthz)",
    what: "GET /api/runs/healthz, no token",
    request: () => ({ method: "GET", path: "/api/runs/healthz" }),
  },
  {
    id: "stack-run",
    label: "stack: authenticated GET run by id",
    what: `GET /api/runs/runs/:id, token, one of ${STACK_RUNS} runs at random`,
    request: (token, ids) => ({
      method: "GET",
      path: "/api/runs/runs",
      paths: ids.map((id) => `/api/runs/runs/${id}`),
      token,
    }),
  },
  {
    id: "stack-list",
    label: "stack: authenticated list of 20 runs",
    what: "GET /api/runs/runs?limit=20, token",
    request: (token) => ({ method: "GET", path: "/api/runs/runs?limit=20", token }),
  },
  {
    id: "stack-post",
    label: "stack: POST a run (row + outbox event)",
    what: "POST /api/runs/runs, token, JSON body; stats consumes each event",
    request: (token) => ({ method: "POST", path: "/api/runs/runs", token, body: JSON.stringify(BENCH_RUN) }),
  },
];

/**
 * Starts the stack, seeds it through the API, measures the rows, stops it.
 * `partners` are the peer's scenarios by the stack row each pairs with; those
 * rows are measured as pairs and both results recorded.
 *
 * @example
 * await runStack(ctx, results, partners?.byStackRow);
 */
export async function runStack(
  ctx: BenchContext,
  out: SuiteResults,
  partners: ReadonlyMap<string, Scenario> = new Map(),
): Promise<void> {
  const rows = STACK_ROWS.filter((row) => wanted(ctx, row.id));
  if (rows.length === 0) return;
  const { progress } = ctx;
  progress.step("stack: starting the shipped stack (bun scripts/dev.ts, EDGE_SERVICE_LIMITS=off)");
  const stack = await startRealStack(ctx);
  try {
    progress.step(`stack: ready at ${stack.base}; seeding a runner and ${STACK_RUNS} runs through the API`);
    const ids = await seed(stack);
    const setup = stackSetup(stack);
    for (const row of rows) {
      // Access tokens live 15 minutes: a fresh one for every row.
      const script = await requestScript(ctx, row.id, row.request(await logIn(stack.base), ids));
      const scenario: Scenario = {
        id: row.id,
        label: row.label,
        setup: `${setup}; ${row.what}`,
        cpuGroups: stack.cpuGroups,
        drive: wrkDriver(ctx, stack.base, script),
      };
      const partner = partners.get(row.id);
      if (partner) {
        const pair = await measurePaired(ctx, scenario, partner);
        record(out, pair.a);
        record(out, pair.b);
      } else {
        record(out, await measure(ctx, scenario));
      }
    }
  } finally {
    progress.step("stack: stopping (SIGTERM to the launcher)");
    await stack.stop();
  }
}

/** Signs the bench runner up and logs its runs; returns their ids. */
export async function seed(stack: RealStack): Promise<string[]> {
  await signUp(stack.base);
  return logRuns(stack.base, await logIn(stack.base), STACK_RUNS);
}

function stackSetup(stack: RealStack): string {
  const workers = stack.edgeWorkerPids().length;
  return `npm run dev stack: NATS users, auth on, ${workers} edge worker${workers === 1 ? "" : "s"}`;
}
