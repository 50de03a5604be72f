/**
 * Stats domain: calendar keys, pace and streaks. Pure functions, no HTTP,
 * NATS or database imports.
 */

/** ISO 8601 week of a UTC time: `2026-W47` (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeek(iso: string): string {
  const d = new Date(iso);
  const day = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

/** Calendar month of a UTC time: `2026-11`. */
export function monthOf(iso: string): string {
  return iso.slice(0, 7);
}

/** UTC day of a time: `2026-11-23`. */
export function dayOf(iso: string): string {
  return new Date(iso).toISOString().slice(0, 10);
}

/** Seconds per km, or null without distance. */
export function pace(distanceM: number, durationS: number): number | null {
  return distanceM > 0 ? Math.round((durationS / (distanceM / 1000)) * 10) / 10 : null;
}

/**
 * Consecutive days with a run, ending today or yesterday (a streak isn't broken
 * before the day is over). `days` are `YYYY-MM-DD`, any order, duplicates allowed.
 */
export function currentStreak(days: string[], today: string): number {
  const have = new Set(days);
  const step = (d: string, n: number) =>
    new Date(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
  let cursor = have.has(today) ? today : step(today, -1);
  let streak = 0;
  while (have.has(cursor)) {
    streak++;
    cursor = step(cursor, -1);
  }
  return streak;
}

/** Race distances for personal bests, in metres. */
export const BEST_DISTANCES = { "5k": 5000, "10k": 10_000, half: 21_097.5, marathon: 42_195 } as const;
export type BestKey = keyof typeof BEST_DISTANCES;

/**
 * Fastest time over `targetM` within one run. With splits (cumulative moving
 * time at each km and at the end) it tries every window starting on a km mark,
 * interpolating linearly inside a km; without splits it assumes an even pace.
 * Null when the run is shorter than the target.
 */
export function bestEffort(
  run: {
    distanceM: number;
    durationS: number;
    splits?: { distanceM: number; elapsedS: number }[] | undefined;
  },
  targetM: number,
): number | null {
  if (run.distanceM + 1e-6 < targetM) return null;
  const splits = run.splits ?? [];
  if (splits.length === 0) return Math.round(((run.durationS * targetM) / run.distanceM) * 10) / 10;
  const points = [{ distanceM: 0, elapsedS: 0 }, ...splits];
  const end = points.at(-1)?.distanceM ?? 0;
  const timeAt = (d: number) => {
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1]!;
      const b = points[i]!;
      if (d <= b.distanceM)
        return (
          a.elapsedS + ((d - a.distanceM) / (b.distanceM - a.distanceM || 1)) * (b.elapsedS - a.elapsedS)
        );
    }
    return points.at(-1)!.elapsedS;
  };
  let best: number | null = null;
  for (let start = 0; start + targetM <= end + 1e-6; start += 1000) {
    const t = timeAt(Math.min(end, start + targetM)) - timeAt(start);
    if (best === null || t < best) best = t;
  }
  return best === null ? null : Math.round(best * 10) / 10;
}
