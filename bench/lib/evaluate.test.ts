/** The targets from measured rows: which rows each reads, met or not; no benchmark figure is asserted. */
import { expect, test } from "bun:test";
import { emptyResults } from "../suite/results.ts";
import { ratios, targets } from "./evaluate.ts";
import type { ScenarioResult } from "./measure.ts";

function row(id: string, rps: number, p99: number, nats = 0): ScenarioResult {
  return {
    id,
    label: id,
    setup: "",
    runs: [],
    rps,
    p50: p99 / 2,
    p99,
    errors: 0,
    cpuUsPerRequest: { nats },
    systemUsPerRequest: {},
    loadUsPerRequest: 0,
    foreignCores: 0,
  };
}

const NO_CPU = { seconds: 1, groups: {}, groupsSystem: {}, load: 0, foreign: 0 };

const results = {
  ...emptyResults(),
  scenarios: [
    row("stack-public", 10_000, 4, 12),
    row("stack-run", 5_000, 12),
    row("stack-post", 1_000, 8),
    row("edge-hello", 20_000, 2),
    row("peer-hello", 4_000, 3),
    row("peer-item", 2_000, 5),
  ],
};

test("the stack rows are measured against Moleculer and against the kit", () => {
  const value = (name: string) => ratios(results).find((r) => r.name === name)?.value;
  expect(value("stack public GET ÷ Moleculer hello")).toBe(2.5);
  expect(value("stack GET by id ÷ Moleculer libsql row")).toBe(2.5);
  expect(value("stack public GET ÷ kit edge row")).toBe(0.5);
});

test("a pair's ratio is the median of its per-run ratios, and says it is paired", () => {
  const run = (rps: number) => ({ rps, p50: 1, p99: 2, requests: rps, errors: 0, cpu: NO_CPU });
  const paired = (id: string, other: string, runs: number[]): ScenarioResult => ({
    ...row(id, runs[1]!, 4),
    runs: runs.map(run),
    pairedWith: other,
  });
  const pairedResults = {
    ...emptyResults(),
    scenarios: [
      paired("stack-public", "peer-hello", [6000, 3000, 2000]),
      paired("peer-hello", "stack-public", [4000, 3000, 4000]),
      row("stack-run", 5_000, 12),
      row("peer-item", 2_000, 5),
    ],
  };
  const byName = Object.fromEntries(ratios(pairedResults).map((r) => [r.name, r]));
  // Per run 1.5, 1, 0.5 → 1; the medians (3000 ÷ 4000) would say 0.75.
  expect(byName["stack public GET ÷ Moleculer hello"]).toMatchObject({ value: 1, paired: true });
  expect(byName["stack GET by id ÷ Moleculer libsql row"]).toMatchObject({ value: 2.5, paired: false });
  expect(byName["kit edge ÷ Moleculer"]?.paired).toBeUndefined();
});

test("each target reads its row, and one not measured is neither met nor missed", () => {
  const byName = Object.fromEntries(targets(results, 50).map((t) => [t.name, t]));
  expect(byName["public GET vs Moleculer hello"]?.met).toBe(true);
  expect(byName["p99 at 50 connections (worst stack row: stack-run)"]?.measured).toBe("12 ms");
  expect(byName["nats-server CPU per request (stack public GET)"]?.met).toBe(true);
  expect(byName["POST through the edge (stack)"]).toMatchObject({ met: false, measured: "1,000 req/s" });
  expect(byName["event pipeline vs raw JetStream"]?.met).toBeNull();
});
