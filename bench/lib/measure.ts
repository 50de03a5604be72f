/**
 * Measuring one scenario: a discarded warm-up, then N runs at fixed
 * concurrency, each with the CPU every server process used, reduced to
 * medians. HTTP scenarios are driven by wrk, the NATS ceiling by a Bun client.
 * Two scenarios whose ratio is a headline are measured as a pair, their runs
 * alternating, so both see the same machine (see pairs.ts).
 */
import type { BenchContext } from "./context.ts";
import { type CpuUse, startCpuMeter } from "./cpu.ts";
import { perRunRatios } from "./pairs.ts";
import { median } from "./stats.ts";

/** One measured run. Latencies in ms. */
export type RunResult = {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  /** What the errors were (`2 timeouts, 1 not 2xx (503: 1)`), when the driver knows. */
  errorDetail?: string;
  cpu: CpuUse;
};

/** A scenario's runs and their medians. */
export type ScenarioResult = {
  id: string;
  label: string;
  /** How it was set up: workers, instances, body size, driver. */
  setup: string;
  runs: RunResult[];
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Median CPU µs per request, per process group (edge, nats-server, service…). */
  cpuUsPerRequest: Record<string, number>;
  /** Of which in the kernel (system time). */
  systemUsPerRequest: Record<string, number>;
  /** Median CPU µs per request of the load generator (on the load cores). */
  loadUsPerRequest: number;
  /** Median share of a core used by other processes during the runs. */
  foreignCores: number;
  /** The row whose runs alternated with this one's (run i of each measured one after the other). */
  pairedWith?: string;
};

export type Scenario = {
  id: string;
  label: string;
  setup: string;
  /** Our server processes by group, for CPU accounting (read when the run starts). */
  cpuGroups: () => Record<string, number[]>;
  /** One run of `seconds` (the warm-up too); returns what it measured. */
  drive: (seconds: number) => Promise<Omit<RunResult, "cpu">>;
};

/** False for a scenario that `--filter` leaves out (so its set-up can be skipped too). */
export function wanted(ctx: BenchContext, id: string): boolean {
  return !ctx.options.filter || ctx.options.filter.test(id);
}

/**
 * Warm-up, then `options.runs` runs; prints a progress line per step.
 * Returns null for a scenario that `--filter` leaves out.
 *
 * @example
 * const result = await measure(ctx, { id: "edge-hello", label: "edge → service", setup, cpuGroups, drive });
 */
export async function measure(ctx: BenchContext, scenario: Scenario): Promise<ScenarioResult | null> {
  if (!wanted(ctx, scenario.id)) return null;
  await warmUp(ctx, scenario, "");
  const runs: RunResult[] = [];
  for (let i = 1; i <= ctx.options.runs; i++) runs.push(await measureRun(ctx, scenario, i));
  return summarise(scenario, runs);
}

/** Two scenarios measured as a pair: each result, and run i of `a` ÷ run i of `b`. */
export type PairedResult = { a: ScenarioResult; b: ScenarioResult; ratios: number[] };

/**
 * Both warm-ups, then `options.runs` runs of `a` each followed at once by a
 * run of `b`, so run i of each saw the same machine; each run keeps its own
 * quiet gate and CPU groups. The caller checks that both are wanted.
 *
 * @example
 * const { a, b, ratios } = await measurePaired(ctx, stackPublic, peerHello);
 */
export async function measurePaired(ctx: BenchContext, a: Scenario, b: Scenario): Promise<PairedResult> {
  await warmUp(ctx, a, `; paired with ${b.label}`);
  await warmUp(ctx, b, `; paired with ${a.label}`);
  const runsA: RunResult[] = [];
  const runsB: RunResult[] = [];
  for (let i = 1; i <= ctx.options.runs; i++) {
    runsA.push(await measureRun(ctx, a, i));
    runsB.push(await measureRun(ctx, b, i));
  }
  const ratios = perRunRatios(runsA, runsB);
  ctx.progress.step(
    `${a.label} ÷ ${b.label}: per run ${ratios.map((r) => `${r.toFixed(2)}×`).join(", ")}, median ${median(ratios.filter(Number.isFinite)).toFixed(2)}×`,
  );
  return {
    a: { ...summarise(a, runsA), pairedWith: b.id },
    b: { ...summarise(b, runsB), pairedWith: a.id },
    ratios,
  };
}

/** The set-up line, then the discarded warm-up (none with `--warmup 0`). */
async function warmUp(ctx: BenchContext, scenario: Scenario, note: string): Promise<void> {
  const { options, progress } = ctx;
  if (options.warmup === 0) return;
  await ctx.quiet.wait((line) => progress.step(`${scenario.label}: ${line}`));
  progress.step(`${scenario.label} [${scenario.setup}${note}]: warm-up ${options.warmup} s`);
  await scenario.drive(options.warmup);
}

/** Run `i`: waits for a quiet machine, drives the load, meters the CPU, prints a line. */
async function measureRun(ctx: BenchContext, scenario: Scenario, i: number): Promise<RunResult> {
  const { options, progress } = ctx;
  await ctx.quiet.wait((line) => progress.step(`${scenario.label}: ${line}`));
  const stop = startCpuMeter(scenario.cpuGroups());
  const r = await scenario.drive(options.seconds);
  const run = { ...r, cpu: stop() };
  const foreign = run.cpu.foreign / run.cpu.seconds;
  progress.step(
    `${scenario.label}: run ${i}/${options.runs} (${options.seconds} s) ${fmt(run.rps)} req/s, p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms` +
      (run.errors ? `, ${run.errors} ERRORS${run.errorDetail ? ` (${run.errorDetail})` : ""}` : "") +
      (foreign > 0.1 ? `, other processes used ${(foreign * 100).toFixed(0)} % of a core` : ""),
  );
  return run;
}

function summarise(scenario: Scenario, runs: RunResult[]): ScenarioResult {
  const cpuUsPerRequest: Record<string, number> = {};
  const systemUsPerRequest: Record<string, number> = {};
  const perRequest = (r: RunResult, seconds: number) => (seconds * 1e6) / Math.max(1, r.rps * r.cpu.seconds);
  for (const group of Object.keys(runs[0]?.cpu.groups ?? {})) {
    systemUsPerRequest[group] = median(runs.map((r) => perRequest(r, r.cpu.groupsSystem[group] ?? 0)));
    cpuUsPerRequest[group] = median(runs.map((r) => perRequest(r, r.cpu.groups[group] ?? 0)));
  }
  return {
    id: scenario.id,
    label: scenario.label,
    setup: scenario.setup,
    runs,
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    cpuUsPerRequest,
    systemUsPerRequest,
    loadUsPerRequest: median(runs.map((r) => perRequest(r, r.cpu.load))),
    foreignCores: median(runs.map((r) => r.cpu.foreign / r.cpu.seconds)),
  };
}

/** 12345.6 → "12,346". */
export function fmt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–";
}
