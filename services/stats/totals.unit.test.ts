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
