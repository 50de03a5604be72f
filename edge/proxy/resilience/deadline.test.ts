import { describe, expect, test } from "bun:test";
import { Deadline, perTryTimeout, sleep, timeoutFor } from "./deadline.ts";

describe("timeoutFor", () => {
  const table = [
    { prefix: "/api/runs", ms: 2000 },
    { prefix: "/api/stats", ms: 4000 },
    { prefix: "/api/stats/reports/", ms: 8000 },
  ];
  test.each([
    ["/api/runs", 2000],
    ["/api/runs/7?x=1", 2000],
    ["/api/runsx", 10_000],
    ["/api/stats/weekly", 4000],
    ["/api/stats/reports", 8000],
    ["/api/stats/reports/2026", 8000],
    ["/elsewhere", 10_000],
  ])("%s → %d ms (longest matching prefix, else the default)", (path, ms) => {
    expect(timeoutFor(path, table, 10_000)).toBe(ms);
  });

  test("a `/` prefix catches everything no longer prefix claims", () => {
    expect(timeoutFor("/x", [{ prefix: "/", ms: 500 }], 10_000)).toBe(500);
  });
});

describe("perTryTimeout", () => {
  test.each([
    // remaining, min, last, expected
    [9000, 250, false, 3000], // a third of what is left, so two more tries fit
    [600, 250, false, 250], // never below the minimum…
    [100, 250, false, 100], // …nor past the deadline
    [0, 250, false, 0],
    [9000, 250, true, 9000], // a try that cannot be retried gets all that is left
    [1000.7, 100, false, 333],
  ])("remaining %d, min %d, last %p → %d", (remaining, min, last, expected) => {
    expect(perTryTimeout(remaining, min, last)).toBe(expected);
  });

  test("three tries with no backoff never outlast the deadline", () => {
    let remaining = 10_000;
    for (const last of [false, false, true]) remaining -= perTryTimeout(remaining, 250, last);
    expect(remaining).toBe(0);
  });
});

describe("Deadline", () => {
  test("aborts its signal at the deadline; expired() settles then", async () => {
    const t0 = performance.now();
    const d = new Deadline(50);
    expect(d.signal.aborted).toBe(false);
    expect(d.remaining()).toBeGreaterThan(0);
    await d.expired();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect(d.signal.aborted).toBe(true);
    expect(d.remaining()).toBe(0);
  });

  test("aborts at once when the client's signal aborts; dispose() stops the timer", async () => {
    const client = new AbortController();
    const d = new Deadline(60_000, client.signal);
    client.abort();
    await d.expired();
    expect(d.signal.reason).toBe("client gone");
    d.dispose();
  });
});

describe("sleep", () => {
  test("true after the full time, false when cut short", async () => {
    expect(await sleep(5, new AbortController().signal)).toBe(true);
    const c = new AbortController();
    const p = sleep(60_000, c.signal);
    c.abort();
    expect(await p).toBe(false);
  });
});
