/**
 * The dashboard's pictures over time: per service, a ring of 15 minutes in
 * 5-second steps of what the edge answered (requests, 5xx, a latency
 * histogram for the p99) and of what the service reported when it was
 * polled (outbox backlog, consumer lag). Steps travel between the workers of
 * one edge as plain values and merge: counts add up, a gauge is the first
 * worker's that sampled it. Web standards only.
 */
import type { ServiceCharts } from "./types.ts";
import { binOf, p99OfBins } from "./window.ts";

/** Seconds per step, and steps kept (15 minutes). */
export const STEP_SECONDS = 5;
export const STEPS = 180;

/** One step of one service, as the workers of an edge exchange it (`step`: seconds since the epoch / STEP_SECONDS). */
export type Step = {
  step: number;
  requests: number;
  errors: number;
  bins: [number, number][];
  backlog: number | null;
  lag: number | null;
};

type Slot = {
  step: number;
  requests: number;
  errors: number;
  bins: Map<number, number>;
  backlog: number | null;
  lag: number | null;
};

/**
 * Keeps the last 15 minutes of every service in 5-second steps.
 *
 * @example
 * const ring = new SeriesRing();
 * ring.record("runs", 200, 12);
 * ring.gauge("runs", { backlog: 0, lag: 3 });
 * ring.steps(Math.floor(Date.now() / 1000)).runs;
 */
export class SeriesRing {
  readonly #rings = new Map<string, Slot[]>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** One answered request. */
  record(key: string, status: number, ms: number): void {
    const slot = this.#slot(key);
    slot.requests += 1;
    if (status >= 500) slot.errors += 1;
    const bin = binOf(ms);
    slot.bins.set(bin, (slot.bins.get(bin) ?? 0) + 1);
  }

  /** What a poll read: the outbox backlog and the consumers' lag (null: it reports none). */
  gauge(key: string, values: { backlog: number | null; lag: number | null }): void {
    const slot = this.#slot(key);
    slot.backlog = values.backlog;
    slot.lag = values.lag;
  }

  /** Every service's whole steps that ended by the end of second `through`. */
  steps(through: number): Record<string, Step[]> {
    const last = Math.floor((through + 1) / STEP_SECONDS) - 1;
    const out: Record<string, Step[]> = {};
    for (const [key, ring] of this.#rings) {
      const steps = ring
        .filter((s) => s && s.step <= last && s.step > last - STEPS)
        .sort((a, b) => a.step - b.step)
        .map((s) => ({
          step: s.step,
          requests: s.requests,
          errors: s.errors,
          bins: [...s.bins.entries()].sort((a, b) => a[0] - b[0]),
          backlog: s.backlog,
          lag: s.lag,
        }));
      if (steps.length) out[key] = steps;
    }
    return out;
  }

  #slot(key: string): Slot {
    const step = Math.floor(this.#now() / 1000 / STEP_SECONDS);
    let ring = this.#rings.get(key);
    if (!ring) {
      ring = [];
      this.#rings.set(key, ring);
    }
    // Two slots more than shown: the current step never overwrites the oldest one shown.
    let slot = ring[step % (STEPS + 2)];
    if (!slot || slot.step !== step) {
      slot = { step, requests: 0, errors: 0, bins: new Map(), backlog: null, lag: null };
      ring[step % (STEPS + 2)] = slot;
    }
    return slot;
  }
}

/**
 * The charts of the 15 minutes that end with second `through`, from the steps
 * of every worker (in worker order): counts summed, gauges from the first
 * worker that sampled them, the p99 of the merged histogram.
 *
 * @example
 * chartsOf([ring.steps(t)], t).services[0]?.requestsPerSecond.length; // 180
 */
export function chartsOf(all: Record<string, Step[]>[], through: number): ServiceCharts {
  const last = Math.floor((through + 1) / STEP_SECONDS) - 1;
  const first = last - STEPS + 1;
  const names = [...new Set(all.flatMap((a) => Object.keys(a)))].sort();
  const services = names.map((name) => {
    const requests = new Array<number>(STEPS).fill(0);
    const errors = new Array<number>(STEPS).fill(0);
    const bins: [number, number][][] = Array.from({ length: STEPS }, () => []);
    const backlog = new Array<number | null>(STEPS).fill(null);
    const lag = new Array<number | null>(STEPS).fill(null);
    for (const worker of all) {
      for (const s of worker[name] ?? []) {
        const i = s.step - first;
        if (i < 0 || i >= STEPS) continue;
        requests[i]! += s.requests;
        errors[i]! += s.errors;
        bins[i]!.push(...s.bins);
        backlog[i] ??= s.backlog;
        lag[i] ??= s.lag;
      }
    }
    return {
      name,
      requestsPerSecond: requests.map((n) => n / STEP_SECONDS),
      errorsPerSecond: errors.map((n) => n / STEP_SECONDS),
      p99Ms: bins.map((b) => p99OfBins(b)),
      outboxBacklog: backlog,
      consumerLag: lag,
    };
  });
  return { start: first * STEP_SECONDS, stepSeconds: STEP_SECONDS, services };
}
