import { describe, expect, test } from "bun:test";
import { currentStreak, dayOf, isoWeek, monthOf, pace } from "./totals.ts";

describe("calendar keys", () => {
  const weeks: [string, string][] = [
    ["2026-11-23T07:00:00Z", "2026-W48"], // a Monday
    ["2026-11-22T23:59:59Z", "2026-W47"], // the Sunday before
    ["2021-01-03T12:00:00Z", "2020-W53"], // early January in the last ISO week of the year before
    ["2024-12-30T12:00:00Z", "2025-W01"], // late December in week 1 of the next
    ["2026-01-01T00:00:00Z", "2026-W01"],
  ];
  for (const [time, week] of weeks) test(`${time} is in ${week}`, () => expect(isoWeek(time)).toBe(week));

  test("months and days are UTC", () => {
    expect(monthOf("2026-11-30T23:00:00.000Z")).toBe("2026-11");
    expect(dayOf("2026-11-30T23:00:00+00:00")).toBe("2026-11-30");
  });
});

describe("pace and streaks", () => {
  test("pace in s/km", () => {
    expect(pace(5000, 1500)).toBe(300);
    expect(pace(0, 100)).toBeNull();
  });

  test("a streak counts back from today, or from yesterday when today has no run yet", () => {
    expect(currentStreak(["2026-11-23", "2026-11-22", "2026-11-21", "2026-11-19"], "2026-11-23")).toBe(3);
    expect(currentStreak(["2026-11-22", "2026-11-21"], "2026-11-23")).toBe(2);
    expect(currentStreak(["2026-11-20"], "2026-11-23")).toBe(0);
    expect(currentStreak(["2026-03-01", "2026-02-28"], "2026-03-01")).toBe(2);
    expect(currentStreak([], "2026-11-23")).toBe(0);
  });
});

import { bestEffort } from "./totals.ts";

describe("best efforts within a run", () => {
  // 12 km: km 1–5 at 300 s, km 6–10 at 240 s, then 2 km at 360 s.
  const perKm = [300, 300, 300, 300, 300, 240, 240, 240, 240, 240, 360, 360];
  const splits = perKm.map((_, i) => ({
    distanceM: (i + 1) * 1000,
    elapsedS: perKm.slice(0, i + 1).reduce((a, b) => a + b, 0),
  }));
  const run = { distanceM: 12_000, durationS: splits.at(-1)!.elapsedS, splits };

  test("the fastest 5 km window is km 6–10", () => expect(bestEffort(run, 5000)).toBe(1200));
  // Windows from km 0, 1 and 2: 2700, 2760 and 2820 s.
  test("the fastest 10 km window", () => expect(bestEffort(run, 10_000)).toBe(2700));
  test("too short for a half", () => expect(bestEffort(run, 21_097.5)).toBeNull());
  test("without splits, an even pace", () =>
    expect(bestEffort({ distanceM: 10_000, durationS: 3000 }, 5000)).toBe(1500));
  test("a distance between km marks is interpolated", () => {
    const half = {
      distanceM: 21_100,
      durationS: 6330,
      splits: [
        ...Array.from({ length: 21 }, (_, i) => ({ distanceM: (i + 1) * 1000, elapsedS: (i + 1) * 300 })),
        { distanceM: 21_100, elapsedS: 6330 },
      ],
    };
    expect(bestEffort(half, 21_097.5)).toBeCloseTo(6329.3, 0);
  });
});
