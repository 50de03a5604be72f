/** The round-trip loop keeps its window in flight, and its summary counts and ranks what it measured. */
import { expect, test } from "bun:test";
import { driveRoundTrips, summariseRoundTrips } from "./round-trips.ts";

test("summarises latencies by nearest rank and counts failures apart", () => {
  const run = summariseRoundTrips([4, 1, 3, 2], ["boom", "bang"], 2);
  expect(run).toEqual({ tasks: 4, seconds: 2, rps: 2, p50: 2, p99: 4, errors: 2, errorDetail: "boom" });
});

test("keeps at most the window in flight and gives each round trip its own sequence number", async () => {
  let inFlight = 0;
  let most = 0;
  const seen = new Set<number>();
  const run = await driveRoundTrips({
    seconds: 0.05,
    window: 8,
    roundTrip: async (seq) => {
      seen.add(seq);
      most = Math.max(most, ++inFlight);
      await new Promise<void>((resolve) => setImmediate(resolve));
      inFlight--;
    },
  });
  expect(most).toBe(8);
  expect(run.tasks).toBe(seen.size);
  expect(run.tasks).toBeGreaterThan(8);
  expect(run.errors).toBe(0);
});

test("a round trip that throws is an error, not a measured task", async () => {
  const run = await driveRoundTrips({
    seconds: 0.02,
    window: 2,
    roundTrip: async (seq) => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (seq % 2 === 1) throw new Error(`task ${seq} failed`);
    },
  });
  expect(run.errors).toBeGreaterThan(0);
  expect(run.errorDetail).toMatch(/^task \d+ failed$/);
  expect(run.tasks + run.errors).toBeGreaterThan(2);
});
