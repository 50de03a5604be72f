/**
 * The contract check on the real runs and stats services: each variant is a
 * real service definition changed the way a developer would change it (a
 * route dropped, a zod schema extended or narrowed, an event redefined), read
 * by the real extraction and judged against the real contract.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import { createRouter, defineConsumer, defineEvent, defineRpc } from "@runnerly/kit";
import {
  type AnyServiceDefinition,
  type Contract,
  checkConsumers,
  compareContracts,
  extractContract,
  formatChange,
  inspectService,
  judge,
} from "@runnerly/kit/contract";
import {
  ListQuery,
  Run,
  RunEventData,
  RunInput,
  runDeleted,
  runLogged,
  runUpdated,
} from "../../services/runs/contract.ts";
import * as runsRoutes from "../../services/runs/routes.ts";
import { service as runs } from "../../services/runs/service.ts";
import { PeriodTotal, statsRpc } from "../../services/stats/contract.ts";
import { updateTotals } from "../../services/stats/events.ts";
import { service as stats } from "../../services/stats/service.ts";

const { createRun, listRuns, getRun, updateRun, deleteRun, importRun, importIntoRun } = runsRoutes;
const ROUTES: RouteConfig[] = [createRun, listRuns, getRun, updateRun, deleteRun, importRun, importIntoRun];

/** The runs service with its routes rebuilt from these route definitions (the handlers never run). */
function runsServing(routes: RouteConfig[], version = runs.version): AnyServiceDefinition {
  return {
    ...runs,
    version,
    routes: () => {
      const app = createRouter();
      for (const route of routes)
        app.openapi(route as never, (() => new Response(null, { status: 501 })) as never);
      return app;
    },
  };
}
/** ROUTES with one route replaced by a changed copy. */
const replacing = (route: RouteConfig, changed: Partial<RouteConfig>) =>
  ROUTES.map((r) => (r === route ? createRoute({ ...route, ...changed } as RouteConfig) : r));
const jsonBody = (schema: z.ZodType) => ({
  body: { required: true, content: { "application/json": { schema } } },
});
const runResponse = (schema: z.ZodType) => ({
  ...getRun.responses,
  200: { description: "The run", content: { "application/json": { schema } } },
});
const statsAnswering = (methods: Parameters<typeof defineRpc>[1]): AnyServiceDefinition => ({
  ...stats,
  rpc: { contract: defineRpc("stats", methods), handlers: stats.rpc?.handlers as never },
});
const weekly = statsRpc.methods.weeklyTotals;

let runsContract: Contract;
let statsContract: Contract;
beforeAll(async () => {
  runsContract = await extractContract(runs);
  statsContract = await extractContract(stats);
});
const baseOf = (def: AnyServiceDefinition) => (def.name === "runs" ? runsContract : statsContract);

describe("the real contracts", () => {
  test("compared with themselves, and with the runs app rebuilt from its route definitions, nothing changed", async () => {
    expect(compareContracts(runsContract, await extractContract(runs))).toEqual([]);
    expect(compareContracts(statsContract, await extractContract(stats))).toEqual([]);
    expect(compareContracts(runsContract, await extractContract(runsServing(ROUTES)))).toEqual([]);
  });
});

describe("breaking changes fail the check, each named", () => {
  const cases: [string, () => AnyServiceDefinition, string][] = [
    [
      "a removed route",
      () => runsServing(ROUTES.filter((r) => r !== deleteRun)),
      "runs: DELETE /api/runs/runs/{id}: route removed",
    ],
    [
      "a removed response field",
      () => runsServing(replacing(getRun, { responses: runResponse(Run.omit({ distanceM: true })) })),
      'runs: GET /api/runs/runs/{id}: response 200 field "distanceM" removed',
    ],
    [
      "a response field that may now be null",
      () =>
        runsServing(
          replacing(getRun, { responses: runResponse(Run.extend({ notes: z.string().nullable() })) }),
        ),
      'runs: GET /api/runs/runs/{id}: widened type: response 200 field "notes" may now be null (string → string | null)',
    ],
    [
      "a response status removed",
      () => runsServing(replacing(getRun, { responses: { 200: getRun.responses[200] } })),
      "runs: GET /api/runs/runs/{id}: response 404 removed",
    ],
    [
      "a narrowed type",
      () =>
        runsServing(
          replacing(createRun, { request: jsonBody(RunInput.extend({ notes: z.enum(["fine", "tired"]) })) }),
        ),
      'runs: POST /api/runs/runs: narrowed type: body field "notes" string → enum ["fine", "tired"]',
    ],
    [
      "a narrowed number range",
      () =>
        runsServing(
          replacing(createRun, {
            request: jsonBody(RunInput.extend({ distanceM: z.number().positive().max(1000) })),
          }),
        ),
      'runs: POST /api/runs/runs: number range narrowed: body field "distanceM" > 0 ≤ 1000000 → > 0 ≤ 1000',
    ],
    [
      "a new required body field",
      () => runsServing(replacing(createRun, { request: jsonBody(RunInput.extend({ shoe: z.string() })) })),
      'runs: POST /api/runs/runs: body field "shoe" is new and required',
    ],
    [
      "an enum value removed from a query parameter",
      () =>
        runsServing(
          replacing(listRuns, {
            request: { query: ListQuery.extend({ kind: z.enum(["easy", "long"]).optional() }) },
          }),
        ),
      'runs: GET /api/runs/runs: enum value "tempo" removed: query parameter "kind"',
    ],
    [
      "a parameter that became required",
      () =>
        runsServing(
          replacing(listRuns, { request: { query: ListQuery.extend({ cursor: z.string().max(200) }) } }),
        ),
      'runs: GET /api/runs/runs: parameter became required: query parameter "cursor"',
    ],
    [
      "a new required RPC input field",
      () => statsAnswering({ weeklyTotals: { ...weekly, input: weekly.input.extend({ tz: z.string() }) } }),
      'stats: rpc weeklyTotals: input field "tz" is new and required',
    ],
    [
      "an RPC output field removed",
      () =>
        statsAnswering({
          weeklyTotals: { ...weekly, output: z.array(PeriodTotal.omit({ paceSPerKm: true })) },
        }),
      'stats: rpc weeklyTotals: output field "[].paceSPerKm" removed',
    ],
    ["a removed RPC method", () => statsAnswering({}), "stats: rpc weeklyTotals: method removed"],
    [
      "an event schema changed without a new version",
      () => ({
        ...runs,
        events: [
          defineEvent("runs", "run.logged", 1, RunEventData.omit({ kind: true })),
          runUpdated,
          runDeleted,
        ],
      }),
      'runs: event run.logged v1: schema changed without a new version (data field "kind" removed)',
    ],
    [
      "an event version no longer published",
      () => ({ ...runs, events: [runLogged, runUpdated] }),
      "runs: event run.deleted v1: no longer published",
    ],
  ];
  test.each(cases)("%s", async (_name, variant, expected) => {
    const def = variant();
    const verdict = judge(baseOf(def), await extractContract(def));
    expect(verdict.breaking.map(formatChange)).toContain(expected);
    expect(verdict.ok).toBe(false);
  });
});

describe("additive changes pass", () => {
  const summary = createRoute({
    method: "get",
    path: "/runs/{id}/summary",
    request: { params: z.object({ id: z.uuid() }) },
    responses: {
      200: {
        description: "A summary",
        content: { "application/json": { schema: z.object({ text: z.string() }) } },
      },
    },
  });
  const cases: [string, () => AnyServiceDefinition, string][] = [
    [
      "a new route",
      () => runsServing([...ROUTES, summary]),
      "runs: GET /api/runs/runs/{id}/summary: route added",
    ],
    [
      "a new optional body field",
      () =>
        runsServing(
          replacing(createRun, { request: jsonBody(RunInput.extend({ shoe: z.string().optional() })) }),
        ),
      'runs: POST /api/runs/runs: body field "shoe" added (optional)',
    ],
    [
      "a widened input range",
      () =>
        runsServing(
          replacing(createRun, {
            request: jsonBody(RunInput.extend({ distanceM: z.number().positive().max(2_000_000) })),
          }),
        ),
      'runs: POST /api/runs/runs: number range widened: body field "distanceM" > 0 ≤ 1000000 → > 0 ≤ 2000000',
    ],
    [
      "a new response field",
      () => runsServing(replacing(getRun, { responses: runResponse(Run.extend({ heartRate: z.number() })) })),
      'runs: GET /api/runs/runs/{id}: response 200 field "heartRate" added',
    ],
    [
      "a new event version",
      () => ({
        ...runs,
        events: [
          ...(runs.events ?? []),
          defineEvent("runs", "run.logged", 2, RunEventData.extend({ shoe: z.string() })),
        ],
      }),
      "runs: event run.logged v2: added",
    ],
    [
      "a new optional RPC input field and a new method",
      () =>
        statsAnswering({
          weeklyTotals: { ...weekly, input: weekly.input.extend({ tz: z.string().optional() }) },
          monthlyTotals: weekly,
        }),
      'stats: rpc weeklyTotals: input field "tz" added (optional)',
    ],
  ];
  test.each(cases)("%s", async (_name, variant, expected) => {
    const def = variant();
    const verdict = judge(baseOf(def), await extractContract(def));
    expect(verdict.breaking.map(formatChange)).toEqual([]);
    expect(verdict.additive.map(formatChange)).toContain(expected);
    expect(verdict.ok).toBe(true);
  });
});

describe("the major version rule", () => {
  test("a breaking change with a new major version is reported and allowed; a minor one is not enough", async () => {
    const removed = ROUTES.filter((r) => r !== deleteRun);
    const major = judge(runsContract, await extractContract(runsServing(removed, "2.0.0")));
    expect(major.breaking.map(formatChange)).toEqual(["runs: DELETE /api/runs/runs/{id}: route removed"]);
    expect(major).toMatchObject({ majorBumped: true, ok: true });
    const minor = judge(runsContract, await extractContract(runsServing(removed, "1.1.0")));
    expect(minor).toMatchObject({ majorBumped: false, ok: false });
  });
});

describe("consumers against their producers", () => {
  const statsConsuming = (events: Parameters<typeof defineConsumer>[0]["events"]): AnyServiceDefinition => ({
    ...stats,
    consumers: () => [defineConsumer({ ...updateTotals, events })],
  });
  const problems = async (consumer: AnyServiceDefinition) =>
    checkConsumers([await inspectService(runs), await inspectService(consumer)]).map(formatChange);

  test("stats accepts every run event version runs publishes, and decodes samples of each", async () => {
    expect(await problems(stats)).toEqual([]);
  });

  test("a consumer declaring a version the producer doesn't publish fails, naming it", async () => {
    const v3 = defineEvent("runs", "run.logged", 3, RunEventData);
    expect(await problems(statsConsuming([...updateTotals.events, v3]))).toEqual([
      "stats: consumer stats-update-totals: accepts run.logged v3, which runs does not publish",
    ]);
  });

  test("a consumer whose own idea of a version rejects what the producer publishes fails, naming it", async () => {
    const stricter = defineEvent("runs", "run.logged", 1, RunEventData.extend({ shoe: z.string() }));
    const found = await problems(statsConsuming([stricter, runUpdated, runDeleted]));
    expect(found[0]).toStartWith(
      "stats: consumer stats-update-totals: does not decode a minimal run.logged v1: invalid run.logged data",
    );
    expect(found[0]).toContain("shoe");
  });
});

describe("declared service levels", () => {
  const levelsChanges = async (slo: AnyServiceDefinition["slo"]) =>
    compareContracts(runsContract, await extractContract({ ...runs, slo } as AnyServiceDefinition)).map(
      (c) => `${c.kind} ${formatChange(c)}`,
    );

  test("the real runs service declares them, and they are in its contract", () => {
    expect(runsContract.slo).toEqual({
      availability: 99.9,
      latencyP99Ms: 300,
      rateLimit: { limit: 3000, windowMs: 60_000 },
    });
  });

  test("a weaker promise is breaking: lower availability, higher p99, fewer requests, a dropped objective", async () => {
    expect(
      await levelsChanges({
        availability: 99,
        latencyP99Ms: 500,
        rateLimit: { limit: 100, windowMs: 60_000 },
      }),
    ).toEqual([
      "breaking runs: service levels: availability 99.9 % → 99 %",
      "breaking runs: service levels: p99 300 ms → 500 ms",
      "breaking runs: service levels: rate limit 3000/60s → 100/60s",
    ]);
    expect(await levelsChanges({ availability: 99.9, rateLimit: { limit: 3000, windowMs: 60_000 } })).toEqual(
      ["breaking runs: service levels: p99 objective 300 ms dropped"],
    );
  });

  test("a stronger promise is additive; the same rate over another window is no change", async () => {
    expect(
      await levelsChanges({
        availability: 99.95,
        latencyP99Ms: 200,
        rateLimit: { limit: 100, windowMs: 1000 },
      }),
    ).toEqual([
      "additive runs: service levels: availability 99.9 % → 99.95 %",
      "additive runs: service levels: p99 300 ms → 200 ms",
      "additive runs: service levels: rate limit 3000/60s → 100/1s",
    ]);
    expect(
      await levelsChanges({
        availability: 99.9,
        latencyP99Ms: 300,
        rateLimit: { limit: 50, windowMs: 1000 },
      }),
    ).toEqual([]);
  });
});
