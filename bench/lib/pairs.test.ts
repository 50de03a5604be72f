/** Which headline pairs a run measures as pairs, and the median of their per-run ratios. */
import { expect, test } from "bun:test";
import { parseBenchOptions } from "./options.ts";
import { pairedRatio, pairingPlan, perRunRatios } from "./pairs.ts";

const plan = (...argv: string[]) => pairingPlan(parseBenchOptions(argv)).map((p) => `${p.stack}/${p.peer}`);

type PlanCase = { argv: string[]; pairs: string[] };

test.each<PlanCase>([
  { argv: [], pairs: ["stack-public/peer-hello", "stack-run/peer-item"] },
  { argv: ["--only", "stack,peer"], pairs: ["stack-public/peer-hello", "stack-run/peer-item"] },
  {
    argv: ["--only", "stack,peer", "--filter", "stack-public|stack-run$|peer-hello$|peer-item$"],
    pairs: ["stack-public/peer-hello", "stack-run/peer-item"],
  },
  { argv: ["--filter", "stack-run|peer-item"], pairs: ["stack-run/peer-item"] },
  { argv: ["--filter", "stack-public|peer-item"], pairs: [] },
  { argv: ["--filter", "stack-"], pairs: [] },
  { argv: ["--only", "stack"], pairs: [] },
  { argv: ["--only", "peer,edge"], pairs: [] },
])("pairing plan of $argv: $pairs", ({ argv, pairs }) => {
  expect(plan(...argv)).toEqual(pairs);
});

test("each stack run is divided by the peer run measured right after it", () => {
  expect(perRunRatios([{ rps: 6000 }, { rps: 3000 }], [{ rps: 4000 }, { rps: 3000 }])).toEqual([1.5, 1]);
});

test("a pair's ratio is the median of its per-run ratios, not the ratio of the medians", () => {
  const stack = [{ rps: 6000 }, { rps: 3000 }, { rps: 2000 }];
  const peer = [{ rps: 4000 }, { rps: 3000 }, { rps: 4000 }];
  // Medians: 3000 ÷ 4000 = 0.75; per run: 1.5, 1, 0.5 → 1.
  expect(pairedRatio(stack, peer)).toBe(1);
});

test("a peer run that served nothing is left out of the median, and no runs give no ratio", () => {
  expect(
    pairedRatio([{ rps: 5000 }, { rps: 4000 }, { rps: 3000 }], [{ rps: 0 }, { rps: 2000 }, { rps: 1000 }]),
  ).toBe(2.5);
  expect(pairedRatio([], [])).toBeNaN();
});
