import { describe, expect, test } from "bun:test";
import { MAX_PLAN_DAYS, PlanInput } from "@runnerly/plans/contract.ts";
import { RUN_KINDS as CONTRACT_KINDS } from "@runnerly/runs/contract.ts";
import { axisTicks, summarise } from "./bar-chart.tsx";
import {
  formatDuration,
  formatKm,
  formatPace,
  formatPercent,
  localDate,
  parseDuration,
  parseKm,
  RACE_DATE_MAX_DAYS,
  RACE_DISTANCES,
  RUN_KINDS,
  toLocalInput,
} from "./format.ts";
import { monthBar, weekBar } from "./totals.tsx";

describe("reading what a person types", () => {
  test.each([
    ["52:30", 3150],
    ["1:05:30", 3930],
    ["0:48:00", 2880],
    [" 45 ", 45],
    ["100:00:00", 360_000],
  ])("duration %p is %p s", (text, seconds) => expect(parseDuration(text)).toBe(seconds));

  test.each([
    "",
    "0:00",
    "1:60",
    "1:2:60",
    "a:10",
    "1::2",
    "1:2:3:4",
    "-5",
    "1.5",
  ])("duration %p is refused", (text) => expect(parseDuration(text)).toBeNull());

  test.each([
    ["10.5", 10_500],
    ["10,5", 10_500],
    ["0.0123", 12.3],
    ["42.195", 42_195],
  ])("distance %p km is %p m", (text, metres) => expect(parseKm(text)).toBe(metres));

  test.each(["", "0", "-1", "ten", "Infinity"])("distance %p is refused", (text) =>
    expect(parseKm(text)).toBeNull());
});

describe("writing figures", () => {
  test("durations, distances, paces and percentages", () => {
    expect(formatDuration(3150)).toBe("52:30");
    expect(formatDuration(3930)).toBe("1:05:30");
    expect(formatDuration(59.6)).toBe("1:00");
    expect(formatKm(10_500)).toBe("10.5 km");
    expect(formatKm(15_904.1, 1)).toBe("15.9 km");
    expect(formatPace(311)).toBe("5:11 /km");
    expect(formatPace(null)).toBe("–");
    expect(formatPercent(0.6625)).toBe("66%");
  });

  test("form values are in the browser's zone", () => {
    expect(toLocalInput(new Date(2026, 10, 20, 7, 5))).toBe("2026-11-20T07:05");
    expect(localDate(new Date(2026, 11, 31, 23, 0), 1)).toBe("2027-01-01");
  });
});

describe("the page agrees with the services", () => {
  test("run kinds are the runs service's", () => expect([...RUN_KINDS]).toEqual([...CONTRACT_KINDS]));
  test("race distances and dates are ones a plan accepts", () => {
    for (const d of RACE_DISTANCES)
      expect(PlanInput.shape.raceDistanceM.safeParse(d.value).success).toBe(true);
    expect(RACE_DATE_MAX_DAYS).toBeLessThanOrEqual(MAX_PLAN_DAYS);
  });
});

describe("chart data", () => {
  const total = (key: string, distanceM: number) => ({
    key,
    distanceM,
    durationS: 3000,
    runs: 2,
    paceSPerKm: 300,
  });

  test("weeks and months get readable labels", () => {
    expect(weekBar(total("2026-W07", 12_340))).toMatchObject({
      label: "week 7 of 2026",
      prefix: "W",
      short: "07",
      value: 12.34,
    });
    expect(monthBar(total("2026-11", 8000))).toMatchObject({
      label: "November 2026",
      short: "Nov",
      value: 8,
    });
    expect(weekBar(total("2026-W07", 12_340)).cells).toEqual(["week 7 of 2026", "12.3 km", "2", "5:00 /km"]);
  });

  test("the image's label sums the chart up", () => {
    const bars = [weekBar(total("2026-W46", 10_000)), weekBar(total("2026-W47", 25_500))];
    const fmt = (v: number) => String(Number(v.toFixed(1)));
    expect(summarise("Distance per week", bars, fmt, "km", "week")).toBe(
      "Distance per week, 2 weeks from week 46 of 2026 to week 47 of 2026: 35.5 km in all, most in week 47 of 2026 with 25.5 km.",
    );
    expect(summarise("Distance per week", [], fmt, "km", "week")).toBe("Distance per week: no data yet.");
  });

  test("the label counts the empty weeks, and says 0 when every week is empty", () => {
    const fmt = (v: number) => String(Number(v.toFixed(1)));
    const weeks = ["2026-W45", "2026-W46", "2026-W47"].map((key, i) =>
      weekBar(total(key, i === 1 ? 0 : 5000)),
    );
    expect(summarise("Distance per week", weeks, fmt, "km", "week")).toBe(
      "Distance per week, 3 weeks from week 45 of 2026 to week 47 of 2026: 10 km in all, most in week 45 of 2026 with 5 km; none in 1 of them.",
    );
    const empty = weeks.map((b) => ({ ...b, value: 0 }));
    expect(summarise("Distance per week", empty, fmt, "km", "week")).toBe(
      "Distance per week, 3 weeks from week 45 of 2026 to week 47 of 2026: 0 km in all.",
    );
  });

  test.each([
    [0, [0, 1]],
    [0.3, [0, 0.1, 0.2, 0.3]],
    [6, [0, 2, 4, 6]],
    [15.9, [0, 5, 10, 15, 20]],
    [19.5, [0, 5, 10, 15, 20]],
    [20, [0, 5, 10, 15, 20]],
    [42.2, [0, 20, 40, 60]],
    [130, [0, 50, 100, 150]],
  ])("the value axis for a highest bar of %p km is %p", (max, ticks) => {
    expect(axisTicks(max)).toEqual(ticks);
  });
});
