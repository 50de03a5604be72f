/** @jsxImportSource hono/jsx/dom */
/** "Log a run": distance, duration, start, kind and notes, posted to the runs service. */
import type { Run } from "@runnerly/runs/contract.ts";
import { api } from "./api.ts";
import { formatDuration, formatKm, parseDuration, parseKm, RUN_KINDS, toLocalInput } from "./format.ts";
import { StatusLine, useAction } from "./status.tsx";

/** The form; `onLogged` gets the run the service created. */
export function LogRun({ onLogged }: { onLogged: (run: Run) => void }) {
  const { busy, status, run } = useAction();

  function onSubmit(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    void run(async () => {
      const distanceM = parseKm(String(data.get("distance")));
      if (distanceM === null)
        throw new Error("Distance: enter the kilometres as a number above 0, like 10.5.");
      const durationS = parseDuration(String(data.get("duration")));
      if (durationS === null) throw new Error("Duration: enter it as hh:mm:ss or mm:ss, like 52:30.");
      const when = new Date(String(data.get("startedAt")));
      if (Number.isNaN(when.getTime())) throw new Error("Date and time: choose when the run started.");
      const created = await api<Run>("/api/runs/runs", {
        method: "POST",
        json: {
          distanceM,
          durationS,
          startedAt: when.toISOString(),
          kind: String(data.get("kind")),
          notes: String(data.get("notes") ?? ""),
        },
      });
      form.reset();
      // reset() empties the start (its value was set as a property): offer "now" again.
      (form.elements.namedItem("startedAt") as HTMLInputElement).value = toLocalInput(new Date());
      onLogged(created);
      return `Logged ${formatKm(created.distanceM)} in ${formatDuration(created.durationS)}.`;
    });
  }

  return (
    <section class="card" aria-labelledby="log-title">
      <h2 id="log-title">Log a run</h2>
      <form onSubmit={onSubmit} aria-describedby="log-status">
        <fieldset disabled={busy}>
          <legend class="vh">Run details</legend>
          <div class="row">
            <div>
              <label for="log-distance">Distance (km)</label>
              <input
                id="log-distance"
                name="distance"
                type="number"
                inputmode="decimal"
                min="0.01"
                max="1000"
                step="0.01"
                required
              />
            </div>
            <div>
              <label for="log-duration">Duration (hh:mm:ss)</label>
              <input
                id="log-duration"
                name="duration"
                type="text"
                inputmode="numeric"
                placeholder="0:50:00"
                pattern="\d{1,3}(:[0-5]\d){0,2}"
                required
              />
            </div>
          </div>
          <label for="log-started">Date and time</label>
          <input
            id="log-started"
            name="startedAt"
            type="datetime-local"
            value={toLocalInput(new Date())}
            required
          />
          <label for="log-kind">Kind</label>
          <select id="log-kind" name="kind">
            {RUN_KINDS.map((k) => (
              <option value={k}>{k}</option>
            ))}
          </select>
          <label for="log-notes">Notes</label>
          <textarea id="log-notes" name="notes" rows={2} maxlength={2000} />
          <button type="submit">Log run</button>
        </fieldset>
      </form>
      <StatusLine id="log-status" status={status} />
    </section>
  );
}
