/**
 * The headline ratios of issue #14 set a stack row against a Moleculer row.
 * This machine is shared and its load drifts by 2× within minutes, so two
 * rows measured minutes apart give a ratio of the drift. Measured as a pair,
 * the two rows' runs alternate (stack run 1, peer run 1, stack run 2, …) and
 * the ratio is the median of the per-run ratios: each ratio is of two runs
 * that saw the same machine.
 */
import type { BenchOptions } from "./options.ts";
import { median, ratio } from "./stats.ts";

/** A stack row and the peer row it is measured against. */
export type Pair = { stack: string; peer: string };

/** The pairs behind the headline ratios, in the order the stack rows run. */
export const HEADLINE_PAIRS: readonly Pair[] = [
  { stack: "stack-public", peer: "peer-hello" },
  { stack: "stack-run", peer: "peer-item" },
];

/** The report's line on how a ratio marked *paired* was measured. */
export const PAIRED_NOTE =
  "*paired*: runs alternated (stack run 1, Moleculer run 1, stack run 2, …), ratio = median of the per-run ratios";

/**
 * The pairs this run measures as pairs: both groups chosen with `--only` and
 * both rows let through by `--filter`. A pair with one side left out is not
 * listed; its other side is measured alone, as any row.
 *
 * @example
 * pairingPlan(parseBenchOptions(["--only", "stack,peer", "--filter", "stack-run|peer-item"]));
 * // [{ stack: "stack-run", peer: "peer-item" }]
 */
export function pairingPlan(options: Pick<BenchOptions, "groups" | "filter">): Pair[] {
  if (!options.groups.includes("stack") || !options.groups.includes("peer")) return [];
  const wanted = (id: string) => !options.filter || options.filter.test(id);
  return HEADLINE_PAIRS.filter((pair) => wanted(pair.stack) && wanted(pair.peer));
}

/**
 * Run i of `a` ÷ run i of `b`, for the runs both have; NaN for a run whose
 * peer run served nothing.
 *
 * @example
 * perRunRatios([{ rps: 6000 }, { rps: 3000 }], [{ rps: 4000 }, { rps: 3000 }]); // [1.5, 1]
 */
export function perRunRatios(a: readonly { rps: number }[], b: readonly { rps: number }[]): number[] {
  const n = Math.min(a.length, b.length);
  return Array.from({ length: n }, (_, i) => ratio(a[i]!.rps, b[i]!.rps));
}

/**
 * The median of the per-run ratios that are numbers; NaN when none is.
 *
 * @example
 * pairedRatio([{ rps: 6000 }, { rps: 3000 }, { rps: 2000 }], [{ rps: 4000 }, { rps: 3000 }, { rps: 4000 }]); // 1
 */
export function pairedRatio(a: readonly { rps: number }[], b: readonly { rps: number }[]): number {
  return median(perRunRatios(a, b).filter(Number.isFinite));
}
