import { describe, expect, test } from "bun:test";
import { waitFor } from "../testing/wait.ts";
import { RestartWithBackoff } from "./restart.ts";

describe("RestartWithBackoff", () => {
  test("doubles the delay while runs end young, up to the ceiling, and starts over after a healthy run", () => {
    const r = new RestartWithBackoff({ firstDelayMs: 500, maxDelayMs: 4000, healthyAfterMs: 10_000 });
    expect([1, 1, 1, 1, 1, 1].map((ran) => r.nextDelay(ran))).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
    expect(r.nextDelay(10_000)).toBe(500);
    expect(r.nextDelay(5)).toBe(1000);
  });

  test("with immediateFirst, the first end of a streak restarts at once", () => {
    const r = new RestartWithBackoff({ immediateFirst: true, firstDelayMs: 100, maxDelayMs: 5000 });
    expect([1, 1, 1, 1, 1, 1, 1, 1].map((ran) => r.nextDelay(ran))).toEqual([
      0, 100, 200, 400, 800, 1600, 3200, 5000,
    ]);
    expect(r.nextDelay(60_000)).toBe(0);
  });

  test("ended() calls restart after the delay; stop() cancels a pending one and any later", async () => {
    const r = new RestartWithBackoff({ immediateFirst: true, firstDelayMs: 60_000, maxDelayMs: 60_000 });
    let restarts = 0;
    expect(r.ended(1, () => restarts++)).toBe(0);
    await waitFor(() => restarts === 1, { what: "the immediate restart" });
    expect(r.ended(1, () => restarts++)).toBe(60_000);
    expect(r.pending).toBe(true);
    r.stop();
    expect(r.pending).toBe(false);
    r.ended(1, () => restarts++);
    expect(r.pending).toBe(false);
    expect(restarts).toBe(1);
  });
});
