/** What a benchmark run found, gathered by the suite's groups for the report. */
import type { EventRates } from "../events/pipeline.ts";
import type { ScenarioResult } from "../lib/measure.ts";

export type SuiteResults = {
  scenarios: ScenarioResult[];
  /** Resident memory (MB) after start and a short idle, and after the load rows. */
  memory: {
    service?: number;
    edgeWorkers?: number[];
    edgeSupervisor?: number;
    serviceAfterLoad?: number;
    edgeWorkersAfterLoad?: number[];
  };
  /** Milliseconds from spawning the bench service's bundle (`runnerly build`) to its first `$SRV.PING.bench` reply, per start. */
  startupMs: number[];
  /** The same from its sources (`bun bench/service/main.ts`). */
  startupSourceMs: number[];
  /** Seconds spent waiting for other processes to leave the CPU. */
  quietWaitedSeconds: number;
  /** The event pipeline beside raw JetStream (bench/events/pipeline.ts). */
  events?: EventRates;
};

/** Empty results, filled in as the groups run. */
export function emptyResults(): SuiteResults {
  return { scenarios: [], memory: {}, startupMs: [], startupSourceMs: [], quietWaitedSeconds: 0 };
}

/** Adds a scenario's result (null: skipped by --filter). */
export function record(out: SuiteResults, result: ScenarioResult | null): void {
  if (result) out.scenarios.push(result);
}
