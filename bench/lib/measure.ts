/**
 * Measuring one scenario: a discarded warm-up, then N runs at fixed
 * concurrency, each with the CPU every server process used, reduced to
 * medians. HTTP scenarios are driven by wrk, the NATS ceiling by a Bun client.
 */
import type { BenchContext } from "./context.ts";
import { type CpuUse, startCpuMeter } from "./cpu.ts";
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
  const { options, progress } = ctx;
  if (!wanted(ctx, scenario.id)) return null;
  const say = (line: string) => progress.step(`${scenario.label}: ${line}`);
  if (options.warmup > 0) {
    await ctx.quiet.wait(say);
    progress.step(`${scenario.label} [${scenario.setup}]: warm-up ${options.warmup} s`);
    await scenario.drive(options.warmup);
  }
  const runs: RunResult[] = [];
  for (let i = 1; i <= options.runs; i++) {
    await ctx.quiet.wait(say);
    const stop = startCpuMeter(scenario.cpuGroups());
    const r = await scenario.drive(options.seconds);
    const run = { ...r, cpu: stop() };
    runs.push(run);
    const foreign = run.cpu.foreign / run.cpu.seconds;
    progress.step(
      `${scenario.label}: run ${i}/${options.runs} (${options.seconds} s) ${fmt(run.rps)} req/s, p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms` +
        (run.errors ? `, ${run.errors} ERRORS${run.errorDetail ? ` (${run.errorDetail})` : ""}` : "") +
        (foreign > 0.1 ? `, other processes used ${(foreign * 100).toFixed(0)} % of a core` : ""),
    );
  }
  return summarise(scenario, runs);
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
