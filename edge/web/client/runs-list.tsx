/** @jsxImportSource hono/jsx/dom */
/** "Your runs": the latest ten, newest first. */
import type { Run } from "@runnerly/runs/contract.ts";
import { formatDuration, formatKm, formatPace, formatWhen } from "./format.ts";

/** The list, or what to do when it is empty; `error` replaces it when the runs could not be read. */
export function RunsList({ runs, error }: { runs: Run[] | null; error: string | null }) {
  return (
    <section class="card" aria-labelledby="runs-title" aria-busy={runs === null && !error}>
      <h2 id="runs-title">Your runs</h2>
      {error ? (
        <p class="status error">{error}</p>
      ) : runs === null ? (
        <p>Loading…</p>
      ) : runs.length === 0 ? (
        <p>No runs yet: log one or import a GPX file.</p>
      ) : (
        <ol class="runs">
          {runs.map((r) => (
            <li key={r.id}>
              <span class="run-main">
                <strong>{formatKm(r.distanceM)}</strong> in {formatDuration(r.durationS)}
                <span class="muted"> · {formatPace(r.paceSPerKm)}</span>
              </span>
              <span class="run-meta">
                <time datetime={r.startedAt}>{formatWhen(r.startedAt)}</time> · {r.kind}
                {r.source === "gpx" && <span class="badge">GPX</span>}
                {r.elevationGainM !== null && ` · ${Math.round(r.elevationGainM)} m climb`}
              </span>
              {r.notes && <span class="run-notes">{r.notes}</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
