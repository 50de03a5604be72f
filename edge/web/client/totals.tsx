/** @jsxImportSource hono/jsx/dom */
/** "Weekly totals", "All time", "Monthly totals" and "Personal bests", from the stats service. */
import type { PeriodTotal } from "@runnerly/stats/contract.ts";
import { type Bar, BarChart } from "./bar-chart.tsx";
import { formatDay, formatDuration, formatKm, formatPace } from "./format.ts";
import { recentPeriods } from "./periods.ts";
import { PERIODS, type StatsState } from "./use-stats.ts";

/** Bars hold kilometres; one decimal is enough on a chart. */
const oneDecimal = (km: number) => String(Number(km.toFixed(1)));
const COLUMNS = ["Period", "Distance", "Runs", "Pace"];

/** The two charts, the all-time figures and the bests, with one note while totals catch up with a new run. */
export function Totals({ stats }: { stats: StatsState }) {
  const { data, error, updating, refresh } = stats;
  const note = error ?? (updating ? "Updating totals with your latest run…" : "");
  // Only the weekly card says why; the others just say there is nothing to show.
  const missing = () => (!data && error ? <p class="muted">Not available right now.</p> : null);
  return (
    <>
      <section class="card span2" aria-labelledby="weekly-title" aria-busy={updating}>
        <div class="card-head">
          <h2 id="weekly-title">Weekly totals</h2>
          <button type="button" class="small" onClick={refresh}>
            Refresh
          </button>
        </div>
        <output class={`status ${error ? "error" : ""}`} aria-live="polite">
          {note}
        </output>
        {data && <PeriodChart title="Distance per week" unit="week" items={data.weekly} toBar={weekBar} />}
      </section>
      <section class="card" aria-labelledby="alltime-title">
        <h2 id="alltime-title">All time</h2>
        {missing()}
        {data && (
          <dl class="figures">
            <dt>Runs</dt>
            <dd>{data.summary.runs}</dd>
            <dt>Distance</dt>
            <dd>{formatKm(data.summary.distanceM, 1)}</dd>
            <dt>Time</dt>
            <dd>{formatDuration(data.summary.durationS)}</dd>
            <dt>Average pace</dt>
            <dd>{formatPace(data.summary.averagePaceSPerKm)}</dd>
            <dt>Longest run</dt>
            <dd>{data.summary.longestRun ? formatKm(data.summary.longestRun.distanceM, 1) : "–"}</dd>
            <dt>Streak</dt>
            <dd>{`${data.summary.currentStreakDays} day${data.summary.currentStreakDays === 1 ? "" : "s"}`}</dd>
          </dl>
        )}
      </section>
      <section class="card span2" aria-labelledby="monthly-title" aria-busy={updating}>
        <h2 id="monthly-title">Monthly totals</h2>
        {missing()}
        {data && (
          <PeriodChart title="Distance per month" unit="month" items={data.monthly} toBar={monthBar} />
        )}
      </section>
      <section class="card" aria-labelledby="bests-title">
        <h2 id="bests-title">Personal bests</h2>
        {missing()}
        {data && data.bests.length === 0 && <p>No bests yet: they come from runs of 5 km or more.</p>}
        {data && data.bests.length > 0 && (
          <table class="bests">
            <caption class="vh">Fastest times within a run</caption>
            <thead>
              <tr>
                <th scope="col">Distance</th>
                <th scope="col">Time</th>
                <th scope="col">Pace</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {data.bests.map((b) => (
                <tr key={b.distance}>
                  <th scope="row">{BEST_NAMES[b.distance]}</th>
                  <td>{formatDuration(b.timeS)}</td>
                  <td>{formatPace(b.paceSPerKm)}</td>
                  <td>{formatDay(b.startedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

const BEST_NAMES = { "5k": "5 km", "10k": "10 km", half: "Half marathon", marathon: "Marathon" } as const;

type PeriodChartProps = {
  title: string;
  unit: "week" | "month";
  items: PeriodTotal[];
  toBar: (t: PeriodTotal) => Bar;
};

/** The last `PERIODS` weeks or months up to now, every one of them: an empty one is a bar at 0. */
function PeriodChart({ title, unit, items, toBar }: PeriodChartProps) {
  if (items.length === 0) return <p>No runs counted yet.</p>;
  const periods = recentPeriods(unit, items, PERIODS, new Date());
  const bars = periods.map(toBar);
  const years = [...new Set(periods.map((t) => t.key.slice(0, 4)))];
  const axis = `${unit === "week" ? "ISO week" : "Month"}, ${years[0]}${years.length > 1 ? `–${years.at(-1)}` : ""}`;
  return (
    <BarChart
      title={title}
      columns={COLUMNS}
      bars={bars}
      format={oneDecimal}
      unit="km"
      period={unit}
      axis={axis}
    />
  );
}

function cells(label: string, t: PeriodTotal): string[] {
  return [label, formatKm(t.distanceM, 1), String(t.runs), formatPace(t.paceSPerKm)];
}

/** `2026-W47` → week 47 of 2026, "W47" ("47" on a phone). */
export function weekBar(t: PeriodTotal): Bar {
  const [year, week] = t.key.split("-W");
  const label = `week ${Number(week)} of ${year}`;
  return { label, short: String(week), prefix: "W", value: t.distanceM / 1000, cells: cells(label, t) };
}

/** `2026-11` → November 2026, "Nov". */
export function monthBar(t: PeriodTotal): Bar {
  const [year, month] = t.key.split("-").map(Number);
  const date = new Date(Date.UTC(year ?? 1970, (month ?? 1) - 1, 1));
  const name = (style: "long" | "short") => date.toLocaleString("en", { month: style, timeZone: "UTC" });
  const label = `${name("long")} ${year}`;
  return { label, short: name("short"), value: t.distanceM / 1000, cells: cells(label, t) };
}
