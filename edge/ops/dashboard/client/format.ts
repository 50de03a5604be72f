/** How figures read on the dashboard. Pure, so unit-tested in Bun. */
import type { InstanceBalance } from "../types.ts";

/** Requests per second: `0`, `0.4`, `12`, `1.2k`. */
export function rate(perSecond: number): string {
  if (perSecond === 0) return "0";
  if (perSecond < 10) return perSecond.toFixed(1);
  if (perSecond < 1000) return String(Math.round(perSecond));
  return `${(perSecond / 1000).toFixed(1)}k`;
}

/** A share as a percentage: `–` when there is nothing to share, `0 %`, `0.5 %`, `12 %`. */
export function share(fraction: number | null): string {
  if (fraction === null) return "–";
  const p = fraction * 100;
  if (p === 0) return "0 %";
  return p < 10 ? `${p.toFixed(1)} %` : `${Math.round(p)} %`;
}

/** A duration in ms: `–`, `0.4 ms`, `12 ms`, `1.5 s`. */
export function millis(ms: number | null): string {
  if (ms === null) return "–";
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** How many times the allowed rate: `130×`, `14×`, `1.5×`; `–` when unknown. */
export function times(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return "–";
  return ratio < 10 ? `${Number(ratio.toFixed(1))}×` : `${Math.round(ratio)}×`;
}

/** A count and its noun: `1 request`, `2 requests`, `0 errors`. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/**
 * A percentage of something that should be near 100: `100 %`, `99.95 %`,
 * `99.3 %`, `87 %`. Never rounded up to 100 (99.999 reads `99.99 %`).
 */
export function percentage(p: number): string {
  if (p >= 100) return "100 %";
  const decimals = p >= 99 ? 2 : 1;
  const f = 10 ** decimals;
  return `${Number((Math.floor(p * f) / f).toFixed(decimals))} %`;
}

/** The error budget left: `43 %`, `0.5 %`; spent or overspent: `exhausted`. */
export function budget(percentLeft: number): string {
  if (!(percentLeft > 0)) return "exhausted";
  return percentLeft < 10 ? `${Number(percentLeft.toFixed(1))} %` : `${Math.round(percentLeft)} %`;
}

/** How long ago an instant was, from now: `just now` (under a second), `13 s ago`, `4 min ago`. */
export function ago(at: number | string, now: number): string {
  const ms = now - (typeof at === "string" ? Date.parse(at) : at);
  if (!Number.isFinite(ms)) return "–";
  return ms < 1000 ? "just now" : `${age(ms)} ago`;
}

/** An age from ms: `12 s`, `4 min`, `3 h`. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** The start of an instance id, enough to tell instances apart. */
export function shortId(id: string): string {
  return id.length > 10 ? `${id.slice(0, 8)}…` : id;
}

/** A time of day in the reader's locale and time zone (what the page shows by default). */
const localTime = (d: Date): string => d.toLocaleTimeString();

/** An instance as the edge's balancer sees it: `healthy`, `ejected until 14:02:03`, `on probation`. */
export function balanceState(
  b: Pick<InstanceBalance, "state" | "ejectedUntil">,
  clock: (d: Date) => string = localTime,
): string {
  if (b.state === "healthy") return "healthy";
  if (b.state === "probing") return "on probation";
  return b.ejectedUntil ? `ejected until ${clock(new Date(b.ejectedUntil))}` : "ejected";
}

/**
 * The balancer's view of an instance in one line: its state, tries in
 * flight, latency estimate (when it has one) and failures in a row (when any):
 * `healthy · 0 in flight · latency 1.2 ms`.
 */
export function balanceText(b: InstanceBalance, clock: (d: Date) => string = localTime): string {
  const parts = [balanceState(b, clock), `${b.inFlight} in flight`];
  if (b.latencyMs !== null) parts.push(`latency ${millis(b.latencyMs)}`);
  if (b.failures > 0) parts.push(`${b.failures} failure${b.failures > 1 ? "s" : ""} in a row`);
  return parts.join(" · ");
}
