/**
 * Calendar periods of the charts: stats lists only the weeks and months that
 * have runs, and a chart wants every one of them in a row, the empty ones
 * too. Keys are stats' own (`2026-W47`, `2026-11`), counted in UTC as stats
 * counts them. No DOM, so they are unit-tested in Bun.
 */
import type { PeriodTotal } from "@runnerly/stats/contract.ts";

const DAY_MS = 86_400_000;

/**
 * The ISO 8601 week of a moment in UTC (weeks start on Monday; week 1 holds
 * the year's first Thursday).
 *
 * @example
 * isoWeekKey(new Date("2026-11-23T07:00:00Z")) // "2026-W48"
 */
export function isoWeekKey(date: Date): string {
  const thursday = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  thursday.setUTCDate(thursday.getUTCDate() + 4 - (thursday.getUTCDay() || 7));
  const year = thursday.getUTCFullYear();
  const week = Math.ceil(((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS + 1) / 7);
  return `${year}-W${String(week).padStart(2, "0")}`;
}

/**
 * The calendar month of a moment in UTC.
 *
 * @example
 * monthKey(new Date("2026-11-23T07:00:00Z")) // "2026-11"
 */
export function monthKey(date: Date): string {
  return date.toISOString().slice(0, 7);
}

/**
 * The `count` ISO weeks that end with week `last`, oldest first, across a
 * year's end (53-week years included).
 *
 * @example
 * weeksEnding("2027-W02", 4) // ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]
 */
export function weeksEnding(last: string, count: number): string[] {
  const monday = mondayOf(last);
  return Array.from({ length: count }, (_, i) => isoWeekKey(new Date(monday - (count - 1 - i) * 7 * DAY_MS)));
}

/**
 * The `count` months that end with month `last`, oldest first.
 *
 * @example
 * monthsEnding("2027-02", 3) // ["2026-12", "2027-01", "2027-02"]
 */
export function monthsEnding(last: string, count: number): string[] {
  const [year, month] = last.split("-").map(Number) as [number, number];
  return Array.from({ length: count }, (_, i) => monthKey(new Date(Date.UTC(year, month - count + i, 1))));
}

/**
 * A total for every key, in the keys' order: stats' own where it has one,
 * zero where there were no runs.
 *
 * @example
 * fillPeriods(["2026-W47", "2026-W48"], weekly) // W47 from weekly or empty, then W48
 */
export function fillPeriods(keys: string[], items: PeriodTotal[]): PeriodTotal[] {
  const known = new Map(items.map((t) => [t.key, t]));
  return keys.map((key) => known.get(key) ?? { key, distanceM: 0, durationS: 0, runs: 0, paceSPerKm: null });
}

/**
 * The `count` periods up to now (or up to the newest total, if a clock runs
 * behind stats'), every one of them, oldest first.
 *
 * @example
 * recentPeriods("week", data.weekly, 12, new Date())
 */
export function recentPeriods(
  unit: "week" | "month",
  items: PeriodTotal[],
  count: number,
  now: Date,
): PeriodTotal[] {
  const current = unit === "week" ? isoWeekKey(now) : monthKey(now);
  // Keys of one kind sort as text: `2026-W09` < `2026-W10`, `2026-09` < `2026-10`.
  const newest = items.reduce((max, t) => (t.key > max ? t.key : max), current);
  const keys = unit === "week" ? weeksEnding(newest, count) : monthsEnding(newest, count);
  return fillPeriods(keys, items);
}

/** Milliseconds of the Monday (00:00 UTC) that starts ISO week `key`. */
function mondayOf(key: string): number {
  const [year, week] = key.split("-W").map(Number) as [number, number];
  const jan4 = Date.UTC(year, 0, 4);
  const weekday = new Date(jan4).getUTCDay() || 7;
  return jan4 - (weekday - 1) * DAY_MS + (week - 1) * 7 * DAY_MS;
}
