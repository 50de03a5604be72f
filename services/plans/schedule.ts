/**
 * The training schedule generator. Pure functions, no HTTP, NATS or database.
 *
 * The method (a conventional build–cutback–taper plan):
 * - The plan runs in ISO weeks from the current week to the race week.
 * - Peak weekly volume depends on the race: up to 5 km → 30 km a week,
 *   10 km → 40, half marathon → 55, longer → 70.
 * - The first week is 60 % of the peak; each week adds 10 % of the peak up to
 *   the peak, and every fourth week is a cutback to 80 % of the week before.
 * - The last two weeks taper: 70 % of the peak, then 40 % plus the race.
 * - The long run is 35 % of the week (at most the race distance for races up
 *   to a half marathon, at most 32 km for longer ones); one key session a week
 *   runs at goal pace; the rest is easy running.
 */
import type { PlanWeek } from "./contract.ts";

const DAY = 86_400_000;

/** Peak weekly distance (m) for a race distance (m). */
export function peakVolume(raceDistanceM: number): number {
  if (raceDistanceM <= 5000) return 30_000;
  if (raceDistanceM <= 10_000) return 40_000;
  if (raceDistanceM <= 21_100) return 55_000;
  return 70_000;
}

/** Monday 00:00 UTC of the ISO week containing `date`. */
export function mondayOf(date: Date): Date {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  return new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY);
}

/** ISO week key `2026-W47` of a date. */
export function isoWeekKey(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - weekday);
  const week = Math.ceil(((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

/** Builds the weekly schedule from `today` to the race. */
export function buildSchedule(input: {
  today: Date;
  raceDate: Date;
  raceDistanceM: number;
  goalTimeS: number;
}): PlanWeek[] {
  const first = mondayOf(input.today);
  const last = mondayOf(input.raceDate);
  const count = Math.round((last.getTime() - first.getTime()) / (7 * DAY)) + 1;
  const peak = peakVolume(input.raceDistanceM);
  const goalPace = Math.round((input.goalTimeS / (input.raceDistanceM / 1000)) * 10) / 10;
  const maxLong = input.raceDistanceM <= 21_100 ? input.raceDistanceM : 32_000;
  const volumes: number[] = [];
  for (let i = 0; i < count; i++) {
    const fromEnd = count - 1 - i;
    if (fromEnd === 0) volumes.push(0.4 * peak + input.raceDistanceM);
    else if (fromEnd === 1) volumes.push(0.7 * peak);
    else if ((i + 1) % 4 === 0) volumes.push(0.8 * (volumes[i - 1] ?? 0.6 * peak));
    else volumes.push(Math.min(peak, 0.6 * peak + 0.1 * peak * (i - Math.floor((i + 1) / 4))));
  }
  return volumes.map((v, i) => {
    const monday = new Date(first.getTime() + i * 7 * DAY);
    const raceWeek = i === count - 1;
    const distanceM = Math.round(v / 100) * 100;
    return {
      week: isoWeekKey(monday),
      startsOn: monday.toISOString().slice(0, 10),
      distanceM,
      longRunM: raceWeek ? input.raceDistanceM : Math.round(Math.min(0.35 * distanceM, maxLong) / 100) * 100,
      keySession: raceWeek
        ? `Race: ${(input.raceDistanceM / 1000).toFixed(1)} km at ${formatPace(goalPace)}/km`
        : i % 2 === 0
          ? `Tempo: 20–40 min at ${formatPace(goalPace)}/km`
          : `Intervals: 6 × 800 m at ${formatPace(Math.max(goalPace - 15, 120))}/km`,
      goalPaceSPerKm: goalPace,
      kind: raceWeek ? "race" : count - 1 - i === 1 ? "taper" : (i + 1) % 4 === 0 ? "cutback" : "build",
    };
  });
}

/** `4:35` for 275 s/km. */
export function formatPace(sPerKm: number): string {
  const s = Math.round(sPerKm);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
