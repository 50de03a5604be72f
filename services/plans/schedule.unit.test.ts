import { describe, expect, test } from "bun:test";
import { compare } from "./progress.ts";
import { buildSchedule, formatPace, isoWeekKey, mondayOf, peakVolume } from "./schedule.ts";

describe("schedule", () => {
  const today = new Date("2026-11-25T10:00:00Z"); // a Wednesday in 2026-W48
  const plan = buildSchedule({
    today,
    raceDate: new Date("2027-03-14T00:00:00Z"),
    raceDistanceM: 42_195,
    goalTimeS: 3.5 * 3600,
  });

  test("one week per ISO week from this week to race week", () => {
    expect(plan[0]!.week).toBe("2026-W48");
    expect(plan[0]!.startsOn).toBe("2026-11-23");
    expect(plan.at(-1)!.week).toBe(isoWeekKey(new Date("2027-03-14T00:00:00Z")));
    expect(plan).toHaveLength(16);
  });

  test("builds to the peak with cutbacks, then tapers into the race", () => {
    const peak = peakVolume(42_195);
    expect(plan[0]!.distanceM).toBe(0.6 * peak);
    expect(Math.max(...plan.map((w) => w.distanceM))).toBeLessThanOrEqual(peak + 42_200);
    for (const [i, w] of plan.entries()) {
      if (w.kind === "cutback") expect(w.distanceM).toBeLessThan(plan[i - 1]!.distanceM);
    }
    expect(plan.at(-2)!.kind).toBe("taper");
    expect(plan.at(-1)!.kind).toBe("race");
    expect(plan.at(-1)!.longRunM).toBe(42_195);
    expect(Math.max(...plan.slice(0, -1).map((w) => w.longRunM))).toBeLessThanOrEqual(32_000);
  });

  test("goal pace and helpers", () => {
    expect(plan[0]!.goalPaceSPerKm).toBeCloseTo(298.6, 1);
    expect(formatPace(275)).toBe("4:35");
    expect(mondayOf(new Date("2026-11-29T23:00:00Z")).toISOString()).toBe("2026-11-23T00:00:00.000Z");
    expect(peakVolume(5000)).toBe(30_000);
    expect(peakVolume(21_097.5)).toBe(55_000);
  });
});

describe("progress", () => {
  test("planned vs done, and completion over the weeks that have started", () => {
    const weeks = [
      { week: "2026-W47", distanceM: 20_000 },
      { week: "2026-W48", distanceM: 30_000 },
      { week: "2026-W49", distanceM: 40_000 },
    ].map((w) => ({
      ...w,
      startsOn: "",
      longRunM: 0,
      keySession: "",
      goalPaceSPerKm: 300,
      kind: "build" as const,
    }));
    const p = compare(weeks, [{ key: "2026-W47", distanceM: 25_000, runs: 3 }], "2026-W48");
    expect(p.weeks.map((w) => w.doneM)).toEqual([25_000, 0, 0]);
    expect(p.completion).toBe(0.5);
  });
});
