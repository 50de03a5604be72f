import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { fillPeriods, isoWeekKey, monthKey, monthsEnding, recentPeriods, weeksEnding } from "./periods.ts";

const DAY_MS = 86_400_000;
const total = (key: string, km: number) => ({
  key,
  distanceM: km * 1000,
  durationS: km * 300,
  runs: 1,
  paceSPerKm: 300,
});

describe("isoWeekKey", () => {
  test.each([
    ["2026-01-01T00:00:00Z", "2026-W01"], // a Thursday: week 1 of its own year
    ["2025-12-29T00:00:00Z", "2026-W01"], // its Monday, still in December
    ["2024-12-30T12:00:00Z", "2025-W01"],
    ["2021-01-03T23:59:59Z", "2020-W53"], // a Sunday in January, in last year's week 53
    ["2026-12-28T00:00:00Z", "2026-W53"],
    ["2027-01-01T08:00:00Z", "2026-W53"],
    ["2027-01-04T00:00:00Z", "2027-W01"],
    ["2026-11-23T07:00:00Z", "2026-W48"],
  ])("%s is in %s", (iso, key) => {
    expect(isoWeekKey(new Date(iso))).toBe(key);
  });
});

describe("weeksEnding", () => {
  test("crosses a year of 53 weeks", () => {
    expect(weeksEnding("2027-W02", 4)).toEqual(["2026-W52", "2026-W53", "2027-W01", "2027-W02"]);
    expect(weeksEnding("2026-W40", 1)).toEqual(["2026-W40"]);
  });

  test("gives consecutive weeks, one per seven days, ending with the asked one", () => {
    const day = fc.integer({ min: Date.UTC(1990, 0, 1) / DAY_MS, max: Date.UTC(2090, 0, 1) / DAY_MS });
    fc.assert(
      fc.property(day, fc.integer({ min: 1, max: 60 }), (d, count) => {
        const last = isoWeekKey(new Date(d * DAY_MS));
        const weeks = weeksEnding(last, count);
        expect(weeks).toHaveLength(count);
        expect(weeks.at(-1)).toBe(last);
        expect(new Set(weeks).size).toBe(count);
        expect([...weeks].sort()).toEqual(weeks);
        // The first is count − 1 weeks before the last: with distinct sorted keys, none is skipped.
        const firstDay = new Date((d - (count - 1) * 7) * DAY_MS);
        expect(weeks[0]).toBe(isoWeekKey(firstDay));
      }),
    );
  });
});

describe("monthsEnding", () => {
  test("crosses a year's end", () => {
    expect(monthsEnding("2027-02", 4)).toEqual(["2026-11", "2026-12", "2027-01", "2027-02"]);
    expect(monthKey(new Date("2026-12-31T23:59:59Z"))).toBe("2026-12");
  });
});

describe("fillPeriods and recentPeriods", () => {
  test("empty periods stand between the ones with runs", () => {
    const filled = fillPeriods(
      ["2026-W40", "2026-W41", "2026-W42"],
      [total("2026-W42", 8), total("2026-W40", 5)],
    );
    expect(filled.map((t) => [t.key, t.distanceM, t.runs])).toEqual([
      ["2026-W40", 5000, 1],
      ["2026-W41", 0, 0],
      ["2026-W42", 8000, 1],
    ]);
    expect(filled[1]?.paceSPerKm).toBeNull();
  });

  test("the shown range ends this week and drops totals before it", () => {
    const now = new Date("2026-12-09T10:00:00Z"); // 2026-W50
    const weeks = recentPeriods(
      "week",
      [total("2026-W49", 10), total("2026-W40", 5), total("2026-W30", 7)],
      12,
      now,
    );
    expect(weeks.map((t) => t.key)).toEqual(weeksEnding("2026-W50", 12));
    expect(weeks.map((t) => t.distanceM / 1000)).toEqual([0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0]);
  });

  test("a total newer than this browser's clock is still shown", () => {
    const now = new Date("2026-12-31T23:00:00Z");
    const months = recentPeriods("month", [total("2027-01", 3)], 3, now);
    expect(months.map((t) => [t.key, t.distanceM])).toEqual([
      ["2026-11", 0],
      ["2026-12", 0],
      ["2027-01", 3000],
    ]);
  });
});
