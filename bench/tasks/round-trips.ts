/**
 * The load of the tasks rows: round trips (submit → worked → completion seen
 * by the submitter) kept at a fixed number in flight for a given time, each
 * timed on its own. The same loop drives Runnerly and BullMQ, so both rows
 * measure the same thing.
 */
import { percentile } from "../lib/stats.ts";

/** What one timed stretch of round trips measured. Latencies in ms. */
export type RoundTripRun = {
  /** Round trips completed (failed ones not counted). */
  tasks: number;
  /** From the first submission to the last completion. */
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** The first error's message, when there were any. */
  errorDetail?: string;
};

export type RoundTripOptions = {
  /** Stop submitting after this long; the round trips in flight then still finish. */
  seconds: number;
  /** Round trips in flight at once. */
  window: number;
  /** One round trip: resolves when the submitter has seen the task completed. */
  roundTrip: (seq: number) => Promise<void>;
  /** A round trip that takes longer counts as an error (and its slot moves on). */
  timeoutMs?: number;
};

/**
 * Runs round trips `window` at a time for `seconds`; returns their rate and latencies.
 *
 * @example
 * const run = await driveRoundTrips({ seconds: 3, window: 64, roundTrip: (i) => submitAndWait(i) });
 * run.rps; // tasks per second
 */
export async function driveRoundTrips(options: RoundTripOptions): Promise<RoundTripRun> {
  const latencies: number[] = [];
  const failures: string[] = [];
  const started = performance.now();
  const stopAt = started + options.seconds * 1000;
  let seq = 0;
  const slot = async () => {
    while (performance.now() < stopAt) {
      const t0 = performance.now();
      try {
        await withTimeout(options.roundTrip(seq++), options.timeoutMs ?? 30_000);
        latencies.push(performance.now() - t0);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: options.window }, slot));
  return summariseRoundTrips(latencies, failures, (performance.now() - started) / 1000);
}

/**
 * Rate and percentiles of measured round trips (nearest-rank, as the other rows).
 *
 * @example
 * summariseRoundTrips([1, 2, 3, 4], [], 2); // { tasks: 4, rps: 2, p50: 2, p99: 4, … }
 */
export function summariseRoundTrips(latencies: number[], failures: string[], seconds: number): RoundTripRun {
  const sorted = Float64Array.from(latencies).sort();
  return {
    tasks: sorted.length,
    seconds,
    rps: seconds > 0 ? sorted.length / seconds : Number.NaN,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors: failures.length,
    ...(failures.length > 0 ? { errorDetail: failures[0] } : {}),
  };
}

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no completion within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
