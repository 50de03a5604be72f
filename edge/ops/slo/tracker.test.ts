import { describe, expect, test } from "bun:test";
import { SloTracker } from "./tracker.ts";

const clock = (start = 1_000_000_000_000) => {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

describe("SloTracker", () => {
  test("availability, budget and burn rate are exact sums over the window", () => {
    const c = clock();
    const slo = new SloTracker({ windows: [{ name: "1m", ms: 60_000 }], now: c.now });
    const levels = { availability: 99, latencyP99Ms: 100 };
    for (let i = 0; i < 200; i++) {
      slo.record("runs", i % 20 === 0 ? 503 : 200, i % 50 === 0 ? 0.25 : 0.02, levels);
      c.advance(100);
    }
    const [runs] = slo.report(() => levels);
    expect(runs?.windows[0]).toEqual({
      window: "1m",
      requests: 200,
      failed: 10,
      availability: 95,
      slow: 4,
      withinLatency: 98,
      p99Ms: 300,
      // 1 % of 200 = 2 failures allowed; 10 happened.
      budgetRemaining: -400,
      burnRate: 5,
    });
    expect(runs?.latencyMet).toBe(false);
  });

  test("old seconds leave the window; a 4xx is not a failure", () => {
    const c = clock();
    const slo = new SloTracker({ windows: [{ name: "10s", ms: 10_000 }], now: c.now });
    slo.record("runs", 500, 0.001);
    c.advance(11_000);
    slo.record("runs", 404, 0.001);
    slo.record("runs", 200, 0.001);
    const w = slo.report(() => ({ availability: 99.9 }))[0]?.windows[0];
    expect(w).toMatchObject({ requests: 2, failed: 0, availability: 100, budgetRemaining: 100, burnRate: 0 });
    expect(w?.slow).toBeNull();
  });

  test("a service burning its budget fast is flagged, once it has enough traffic", () => {
    const c = clock();
    const slo = new SloTracker({ windows: [{ name: "1m", ms: 60_000 }], now: c.now, minRequests: 20 });
    const levels = { availability: 99.9 };
    for (let i = 0; i < 19; i++) slo.record("plans", i < 2 ? 500 : 200, 0.01, levels);
    expect(slo.report(() => levels)[0]?.burning).toBe(false);
    slo.record("plans", 200, 0.01, levels);
    // 2 of 20 failed: 10 % against 0.1 % allowed, a burn rate of 100.
    expect(slo.report(() => levels)[0]).toMatchObject({ burning: true, windows: [{ burnRate: 100 }] });
    for (let i = 0; i < 20; i++) slo.record("runs", 200, 0.01, levels);
    expect(slo.report(() => levels).find((r) => r.service === "runs")?.burning).toBe(false);
  });

  test("without objectives it still counts, and reports no budget", () => {
    const slo = new SloTracker();
    slo.record("foreign", 200, 0.003);
    const r = slo.report(() => ({}))[0];
    expect(r?.windows.map((w) => w.window)).toEqual(["5m", "1h"]);
    expect(r?.windows[0]).toMatchObject({
      requests: 1,
      availability: 100,
      budgetRemaining: null,
      burnRate: null,
    });
  });
});
