/**
 * Command-line options of `npm run bench` / `bun bench/run.ts`.
 *
 *   --quick            2 short runs per scenario after a 1 s warm-up (a fast check; does not write BENCHMARKS.md)
 *   --runs N           measured runs per scenario (default 3)
 *   --seconds S        length of one run (default 6)
 *   --warmup S         warm-up before the runs, discarded (default 2)
 *   --connections N    wrk connections / NATS requests in flight (default 50)
 *   --edge-workers N   EDGE_WORKERS of the main edge rows (default 1; the other count is measured beside it)
 *   --starts N         service starts timed for start-up (default 5)
 *   --only a,b         groups to run: stack, ceilings, edge, growth, peer, startup, events, tasks (default all, in that order)
 *   --filter REGEX     measure only the scenarios whose id matches (stack-run, edge-hello, peer-item…)
 *   --quiet-wait S     before each run, wait up to S s for other processes to leave the CPU (default 10; 0: don't)
 *   --quiet-budget S   …and at most S s of such waiting in the whole run (default 90)
 *   --out FILE         where to write the report (default BENCHMARKS.md)
 *   --write / --no-write   write the report or not (default: write unless --quick)
 *   --profile          instead of the suite: profile the edge worker and the bench service (bun --cpu-prof) under load
 *   --profile --stack  …or the shipped stack (`npm run dev`, bench/profile-stack.ts): every Bun process of it
 *                      under the profiler (BUN_OPTIONS), load on the public GET and the authenticated GET by
 *                      id, then the edge worker's and the runs service's profiles summarised
 *   --profile --logic  …or what the edge's own steps cost per request, without I/O (bench/profile-logic.ts):
 *                      the shipped stack up, an edge in the runner replaying one real reply per row, then a
 *                      runs instance in the runner fed the header blocks the edge would send
 */
import { parseArgs } from "node:util";

export const GROUPS = ["stack", "ceilings", "edge", "growth", "peer", "startup", "events", "tasks"] as const;
export type Group = (typeof GROUPS)[number];

export type BenchOptions = {
  quick: boolean;
  runs: number;
  seconds: number;
  warmup: number;
  connections: number;
  edgeWorkers: number;
  starts: number;
  quietWait: number;
  quietBudget: number;
  groups: Group[];
  filter: RegExp | null;
  out: string;
  write: boolean;
  profile: boolean;
  /** With `profile`: profile the shipped stack instead of the bench service. */
  stack: boolean;
  /** With `profile`: measure the edge's own steps per request, replies replayed (bench/profile-logic.ts). */
  logic: boolean;
};

/**
 * Parses argv; throws an Error with a usage hint on a bad value.
 *
 * @example
 * parseBenchOptions(["--quick"]).runs; // 2
 */
export function parseBenchOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      runs: { type: "string" },
      seconds: { type: "string" },
      warmup: { type: "string" },
      connections: { type: "string", default: "50" },
      "edge-workers": { type: "string", default: "1" },
      starts: { type: "string" },
      only: { type: "string" },
      filter: { type: "string" },
      "quiet-wait": { type: "string", default: "10" },
      "quiet-budget": { type: "string", default: "90" },
      out: { type: "string", default: "BENCHMARKS.md" },
      write: { type: "boolean" },
      "no-write": { type: "boolean" },
      profile: { type: "boolean", default: false },
      stack: { type: "boolean", default: false },
      logic: { type: "boolean", default: false },
    },
  });
  const quick = values.quick ?? false;
  const groups = (values.only?.split(",").map((g) => g.trim()) ?? [...GROUPS]) as Group[];
  for (const g of groups)
    if (!GROUPS.includes(g)) throw new Error(`--only: unknown group "${g}" (use ${GROUPS.join(", ")})`);
  if (values.stack && !values.profile)
    throw new Error("--stack goes with --profile (the stack rows are the group `stack`: --only stack)");
  if (values.logic && !values.profile) throw new Error("--logic goes with --profile");
  return {
    quick,
    runs: count("--runs", values.runs ?? (quick ? "2" : "3")),
    seconds: count("--seconds", values.seconds ?? (quick ? "3" : "6")),
    warmup: count("--warmup", values.warmup ?? (quick ? "1" : "2"), 0),
    connections: count("--connections", values.connections!),
    edgeWorkers: count("--edge-workers", values["edge-workers"]!),
    starts: count("--starts", values.starts ?? (quick ? "3" : "5")),
    quietWait: count("--quiet-wait", values["quiet-wait"]!, 0),
    quietBudget: count("--quiet-budget", values["quiet-budget"]!, 0),
    groups,
    filter: values.filter ? new RegExp(values.filter) : null,
    out: values.out!,
    write: values["no-write"] ? false : (values.write ?? !quick),
    profile: values.profile ?? false,
    stack: values.stack ?? false,
    logic: values.logic ?? false,
  };
}

function count(flag: string, raw: string, min = 1): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`${flag} must be a whole number ≥ ${min} (got ${raw})`);
  return n;
}
