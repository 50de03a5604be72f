/** @jsxImportSource hono/jsx/dom */
/**
 * A plan's season report: the button asks plans for it (plans hands the work
 * to stats as a task through the broker), the page follows its status as
 * server-sent events until stats has answered, then shows the season's
 * figures and its weeks. The last report of the plan shows when it opens.
 */
import type { PlanReport } from "@runnerly/plans/contract.ts";
import type { SeasonReport } from "@runnerly/stats/contract.ts";
import { useEffect, useRef, useState } from "hono/jsx/dom";
import { ApiError, api } from "./api.ts";
import { follow } from "./follow.ts";
import { formatDuration, formatKm, formatPace } from "./format.ts";
import { describe, StatusLine, useAction } from "./status.tsx";

const ended = (r: PlanReport) => r.status !== "pending";

/** The button, what it says back, and the figures once ready. */
export function SeasonReportPanel({ planId }: { planId: string }) {
  const [report, setReport] = useState<PlanReport | null>(null);
  const { busy, status, setStatus, run } = useAction();
  const aborter = useRef<AbortController | null>(null);
  const path = `/api/plans/plans/${encodeURIComponent(planId)}/report`;

  /** Follows a pending report to its end; the text to show then (none once this plan is left). */
  async function settle(asked: PlanReport, signal: AbortSignal): Promise<string | null> {
    setReport(asked);
    if (asked.status === "pending")
      setStatus({ kind: "info", text: "The statistics are computing your season…" });
    let final = asked;
    try {
      if (!ended(asked)) final = await follow(path, { ended, onStatus: setReport, signal });
    } catch (err) {
      if (signal.aborted) return null;
      throw err;
    }
    if (final.status === "failed") throw new Error(final.error ?? "The season report could not be made.");
    return "Season report ready.";
  }

  useEffect(() => {
    const controller = new AbortController();
    aborter.current = controller;
    setReport(null);
    setStatus(null);
    api<PlanReport>(path, { signal: controller.signal })
      .then((last) =>
        last.status === "pending" ? run(() => settle(last, controller.signal)) : setReport(last),
      )
      .catch((err) => {
        // None asked for yet is the usual case; a failure to look is worth saying.
        if (!controller.signal.aborted && !(err instanceof ApiError && err.status === 404))
          setStatus({ kind: "error", text: describe(err) });
      });
    return () => controller.abort();
  }, [planId]);

  function onAsk() {
    const signal = aborter.current?.signal ?? new AbortController().signal;
    void run(async () => settle(await api<PlanReport>(path, { method: "POST", signal }), signal));
  }

  const figures = report?.status === "ready" ? report.report : null;
  return (
    <div class="season">
      <button type="button" onClick={onAsk} disabled={busy} aria-describedby="season-status">
        Season report
      </button>
      <StatusLine id="season-status" status={status} />
      {figures && <SeasonFigures season={figures} />}
    </div>
  );
}

/** The season's totals in a sentence, and its weeks with runs. */
function SeasonFigures({ season }: { season: SeasonReport }) {
  const runs = season.runs === 1 ? "1 run" : `${season.runs} runs`;
  return (
    <section class="season-figures" aria-label="Season report">
      <p>
        From <time datetime={season.from}>{season.from}</time> to race day:{" "}
        <strong>
          {formatKm(season.distanceM, 1)} in {runs}
        </strong>
        , {formatDuration(season.durationS)} at {formatPace(season.paceSPerKm)}, longest{" "}
        {formatKm(season.longestRunM, 1)}.
      </p>
      {season.weeks.length > 0 && (
        <table class="season-weeks">
          <caption class="vh">Runs per week of the season</caption>
          <thead>
            <tr>
              <th scope="col">Week</th>
              <th scope="col">Runs</th>
              <th scope="col">Distance</th>
              <th scope="col">Pace</th>
            </tr>
          </thead>
          <tbody>
            {season.weeks.map((w) => (
              <tr key={w.key}>
                <th scope="row">{w.key.replace(/^\d{4}-/, "")}</th>
                <td>{w.runs}</td>
                <td>{formatKm(w.distanceM, 1)}</td>
                <td>{formatPace(w.paceSPerKm)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
