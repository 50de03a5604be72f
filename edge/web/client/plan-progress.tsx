/** @jsxImportSource hono/jsx/dom */
/** One plan: its race, its completion, and its weeks with planned against done distance. */
import type { PlanWithProgress } from "@runnerly/plans/contract.ts";
import { formatDuration, formatKm, formatPace, formatPercent, RACE_DISTANCES } from "./format.ts";

/** The plan's heading, completion (or the degraded note) and the table of weeks. */
export function PlanProgress({ plan }: { plan: PlanWithProgress }) {
  const done = new Map(plan.progress?.weeks.map((w) => [w.week, w]) ?? []);
  const rows = plan.weeks.map((w) => ({ ...w, doneM: done.get(w.week)?.doneM ?? null }));
  const scale = Math.max(1, ...rows.map((r) => Math.max(r.distanceM, r.doneM ?? 0)));
  const race =
    RACE_DISTANCES.find((d) => d.value === plan.raceDistanceM)?.label ?? formatKm(plan.raceDistanceM);
  return (
    <article class="plan" aria-labelledby="plan-title">
      <h3 id="plan-title">{plan.name}</h3>
      <p>
        {race} on <time datetime={plan.raceDate}>{plan.raceDate}</time>, goal {formatDuration(plan.goalTimeS)}{" "}
        ({formatPace(plan.goalPaceSPerKm)})
      </p>
      {plan.degraded || !plan.progress ? (
        <p class="note">
          Progress unavailable right now: the statistics did not answer in time. The plan is shown without it.
        </p>
      ) : (
        <Completion ratio={plan.progress.completion} />
      )}
      {/* Every week shows, the race's too. Focusable so the keyboard can scroll it on a screen narrower than a phone. */}
      <section class="weeks-box" aria-label="Weeks of the plan" tabindex={0}>
        <table class="weeks">
          <thead>
            <tr>
              <th scope="col">Week</th>
              <th scope="col">Focus</th>
              <th scope="col">Planned</th>
              <th scope="col">Done</th>
              <th scope="col">
                <span class="vh">Planned against done</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.week} class={`week-${r.kind}`}>
                <th scope="row">
                  {r.week.replace(/^\d{4}-/, "")}
                  {r.kind === "race" && <span class="badge race">Race week</span>}
                  <span class="muted block">{r.startsOn}</span>
                </th>
                <td>
                  {r.kind}
                  <span class="muted block">{r.keySession}</span>
                </td>
                <td>{formatKm(r.distanceM, 1)}</td>
                <td>{r.doneM === null ? "–" : formatKm(r.doneM, 1)}</td>
                <td class="bar-cell">
                  <WeekBar planned={r.distanceM} done={r.doneM ?? 0} scale={scale} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </article>
  );
}

function Completion({ ratio }: { ratio: number | null }) {
  if (ratio === null) return <p>Completion: the first week has not started yet.</p>;
  const percent = Math.round(ratio * 100);
  return (
    <p class="completion">
      <span id="plan-completion-label">Completion so far</span>{" "}
      <progress max="100" value={String(Math.min(percent, 100))} aria-labelledby="plan-completion-label" />{" "}
      <strong>{formatPercent(ratio)}</strong> of the planned distance
    </p>
  );
}

/** Planned distance as a light bar, done distance over it; the figures are in the row (so it is hidden). */
function WeekBar({ planned, done, scale }: { planned: number; done: number; scale: number }) {
  const w = (m: number) => String(Math.round((m / scale) * 1000) / 10);
  return (
    <svg class="week-bar" viewBox="0 0 100 12" preserveAspectRatio="none" aria-hidden="true">
      <rect class="planned" x="0" y="1" width={w(planned)} height="10" rx="2" />
      <rect class="done" x="0" y="3" width={w(done)} height="6" rx="2" />
    </svg>
  );
}
