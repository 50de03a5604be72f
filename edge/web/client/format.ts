/**
 * Pure helpers of the web page: reading what a person types and writing
 * figures the way a runner reads them. No DOM, so they are unit-tested in Bun.
 */

/** The run kinds of the runs service (`RUN_KINDS` in its contract; a test keeps them equal). */
export const RUN_KINDS = ["easy", "long", "tempo", "interval", "race", "recovery", "trail", "other"] as const;

/** Race distances a plan can target, in metres. */
export const RACE_DISTANCES = [
  { label: "5 km", value: 5000 },
  { label: "10 km", value: 10_000 },
  { label: "Half marathon", value: 21_097.5 },
  { label: "Marathon", value: 42_195 },
] as const;

/** How far ahead a race may be, in days (the plans service allows a little more). */
export const RACE_DATE_MAX_DAYS = 365;

/**
 * Seconds from `h:mm:ss`, `mm:ss` or `ss`; null for anything else (minutes
 * and seconds after the first part must be below 60).
 *
 * @example
 * parseDuration("1:05:30") // 3930
 */
export function parseDuration(text: string): number | null {
  const parts = text.trim().split(":");
  if (parts.length === 0 || parts.length > 3 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  const numbers = parts.map(Number);
  if (numbers.slice(1).some((n) => n >= 60)) return null;
  const seconds = numbers.reduce((total, n) => total * 60 + n, 0);
  return seconds > 0 ? seconds : null;
}

/**
 * `h:mm:ss` (or `m:ss` under an hour) from whole seconds.
 *
 * @example
 * formatDuration(3930) // "1:05:30"
 */
export function formatDuration(totalS: number): string {
  const s = Math.round(totalS);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/**
 * Kilometres with at most `digits` decimals and a unit, for text and labels.
 *
 * @example
 * formatKm(10_500) // "10.5 km"
 */
export function formatKm(metres: number, digits = 2): string {
  return `${Number((metres / 1000).toFixed(digits))} km`;
}

/** A pace as `m:ss /km`, or an en dash when there is none. */
export function formatPace(sPerKm: number | null | undefined): string {
  return sPerKm ? `${formatDuration(sPerKm)} /km` : "–";
}

/** Metres from a kilometre field, or null when it is not a positive number. */
export function parseKm(text: string): number | null {
  const km = Number(text.trim().replace(",", "."));
  return Number.isFinite(km) && km > 0 ? Math.round(km * 1000 * 10) / 10 : null;
}

/**
 * The value of a `datetime-local` input for a moment, in the browser's zone.
 *
 * @example
 * toLocalInput(new Date(2026, 10, 20, 7, 30)) // "2026-11-20T07:30"
 */
export function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** `YYYY-MM-DD` of the day `days` after `from`, in the browser's zone (for `<input type="date">`). */
export function localDate(from: Date, days = 0): string {
  const d = new Date(from.getFullYear(), from.getMonth(), from.getDate() + days);
  return toLocalInput(d).slice(0, 10);
}

/** A run's start as a short local date and time. */
export function formatWhen(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A day as a short local date ("Nov 23, 2026"). */
export function formatDay(iso: string): string {
  return new Date(iso).toLocaleDateString(undefined, { dateStyle: "medium" });
}

/** A completion ratio (0–1+) as a whole percentage. */
export function formatPercent(ratio: number): string {
  return `${Math.round(ratio * 100)}%`;
}
