import { describe, expect, test } from "bun:test";
import { figuresOf, RollingWindow } from "./window.ts";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("RollingWindow", () => {
  test("requests/s, error share, mean and p99 over the window; older seconds fall out", () => {
    const c = clock();
    const w = new RollingWindow(10, c.now);
    c.advance(10_000); // a window that has run for its whole length
    for (let i = 0; i < 100; i++) {
      const ms = i < 99 ? 10 : 500;
      w.record("runs", { requests: 1, errors: i % 10 === 0 ? 1 : 0, totalMs: ms, latencyMs: ms });
    }
    const f = w.figures("runs");
    expect(f.requests).toBe(100);
    expect(f.requestsPerSecond).toBe(10);
    expect(f.errorRate).toBeCloseTo(0.1);
    expect(f.averageMs).toBeCloseTo((99 * 10 + 500) / 100);
    // 99 of 100 took 10 ms: the p99 is ~10 ms (within a bin: 15 %), not the one slow request.
    expect(f.p99Ms).toBeGreaterThanOrEqual(10);
    expect(f.p99Ms).toBeLessThan(11.5);

    c.advance(10_000);
    expect(w.figures("runs")).toMatchObject({
      requests: 0,
      requestsPerSecond: 0,
      errorRate: null,
      p99Ms: null,
    });
    w.prune();
    expect(w.figures("runs").requests).toBe(0);
  });

  test("a young window divides by the time it has run, never less than a second", () => {
    const c = clock();
    const w = new RollingWindow(10, c.now);
    c.advance(4000);
    for (let i = 0; i < 8; i++) w.record("stats", { requests: 1, errors: 0, totalMs: 1 });
    expect(w.figures("stats").requestsPerSecond).toBe(2);
    expect(w.figures("stats").p99Ms).toBeNull(); // no latencies were given
    expect(w.figures("nobody")).toMatchObject({ requests: 0, errorRate: null, averageMs: null });
  });

  test("bulk samples (a poll's worth of counts) add up", () => {
    const c = clock();
    const w = new RollingWindow(5, c.now);
    c.advance(5000);
    w.record("runs", { requests: 30, errors: 3, totalMs: 60 });
    c.advance(1000);
    w.record("runs", { requests: 20, errors: 0, totalMs: 40 });
    expect(w.figures("runs")).toMatchObject({
      requests: 50,
      requestsPerSecond: 10,
      errorRate: 0.06,
      averageMs: 2,
    });
  });
});

describe("figuresOf: the workers of one edge", () => {
  test("two workers' cells up to a second sum to what one window counting everything shows", () => {
    const c = clock();
    const [a, b, all] = [
      new RollingWindow(10, c.now),
      new RollingWindow(10, c.now),
      new RollingWindow(10, c.now),
    ];
    c.advance(10_000);
    for (let i = 0; i < 60; i++) {
      const sample = { requests: 1, errors: i % 6 === 0 ? 1 : 0, totalMs: 5 + i, latencyMs: 5 + i };
      (i % 2 ? a : b).record("runs", sample);
      all.record("runs", sample);
      c.advance(150);
    }
    const through = Math.floor(c.now() / 1000) - 1;
    // The second still counting is left out: every worker sums the same seconds.
    a.record("runs", { requests: 1, errors: 1, totalMs: 1, latencyMs: 1 });
    const merged = figuresOf([...(a.cells(through).runs ?? []), ...(b.cells(through).runs ?? [])], 10);
    expect(merged).toEqual(figuresOf(all.cells(through).runs ?? [], 10));
    expect(merged.requests).toBeGreaterThan(40);
    expect(merged.p99Ms).toBeGreaterThan(50);
  });
});
