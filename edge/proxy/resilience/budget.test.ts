import { describe, expect, test } from "bun:test";
import { backoff, RetryBudget } from "./budget.ts";

function clock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

describe("RetryBudget", () => {
  test("a quiet edge may still retry up to the floor", () => {
    const budget = new RetryBudget({ ratio: 0.2, minRetries: 3, windowMs: 10_000, now: clock().now });
    budget.recordRequest();
    expect([1, 2, 3, 4].map(() => budget.tryRetry())).toEqual([true, true, true, false]);
  });

  test("under load, retries stay within ratio × requests", () => {
    const budget = new RetryBudget({ ratio: 0.2, minRetries: 0, windowMs: 10_000, now: clock().now });
    let retries = 0;
    for (let i = 0; i < 1000; i++) {
      budget.recordRequest();
      if (budget.tryRetry()) retries += 1; // every request fails and wants a retry
    }
    expect(retries).toBe(200);
    expect(budget.totals()).toEqual({ requests: 1000, retries: 200 });
  });

  test("canRetry looks without spending", () => {
    const budget = new RetryBudget({ ratio: 0, minRetries: 1, windowMs: 1000, now: clock().now });
    expect(budget.canRetry()).toBe(true);
    expect(budget.canRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(true);
    expect(budget.canRetry()).toBe(false);
  });

  test("the window slides: old requests and retries stop counting", () => {
    const c = clock();
    const budget = new RetryBudget({ ratio: 0.5, minRetries: 0, windowMs: 10_000, now: c.now });
    for (let i = 0; i < 10; i++) budget.recordRequest();
    for (let i = 0; i < 5; i++) expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    c.advance(5000);
    expect(budget.totals()).toEqual({ requests: 10, retries: 5 });
    c.advance(5000);
    expect(budget.totals()).toEqual({ requests: 0, retries: 0 });
    budget.recordRequest();
    budget.recordRequest();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
  });

  test("rejects nonsense options", () => {
    expect(() => new RetryBudget({ ratio: -1, minRetries: 0, windowMs: 1 })).toThrow(RangeError);
    expect(() => new RetryBudget({ ratio: 0.2, minRetries: 0, windowMs: 0 })).toThrow(RangeError);
  });
});

describe("backoff", () => {
  test("jittered, growing on average, capped", () => {
    const runs = Array.from({ length: 500 }, () => {
      const delays = backoff({ initialMs: 25, maxMs: 400 });
      return [delays.next(), delays.next(), delays.next(), delays.next()];
    });
    const all = runs.flat();
    expect(Math.min(...all)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...all)).toBeLessThanOrEqual(400);
    const mean = (i: number) => runs.reduce((s, r) => s + (r[i] ?? 0), 0) / runs.length;
    expect(mean(0)).toBeGreaterThan(5);
    expect(mean(0)).toBeLessThan(40);
    expect(mean(2)).toBeGreaterThan(mean(0));
    // Jitter: the first delays of different requests are spread, not one value.
    expect(new Set(runs.map((r) => r[0])).size).toBeGreaterThan(10);
  });
});
