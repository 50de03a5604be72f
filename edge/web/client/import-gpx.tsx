/** @jsxImportSource hono/jsx/dom */
/** "Import a GPX file": the file goes as multipart (field `file`) to the runs service, which measures it. */
import type { Run } from "@runnerly/runs/contract.ts";
import { api } from "./api.ts";
import { formatDuration, formatKm, RUN_KINDS } from "./format.ts";
import { StatusLine, useAction } from "./status.tsx";

/** The upload form; `onLogged` gets the run made from the track. */
export function ImportGpx({ onLogged }: { onLogged: (run: Run) => void }) {
  const { busy, status, run } = useAction();

  function onSubmit(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const file = data.get("file");
    void run(async () => {
      if (!(file instanceof File) || file.size === 0) throw new Error("Choose a GPX file first.");
      const upload = new FormData();
      upload.set("file", file, file.name);
      upload.set("kind", String(data.get("kind")));
      const created = await api<Run>("/api/runs/runs/import", { method: "POST", form: upload });
      form.reset();
      onLogged(created);
      const climb = created.elevationGainM === null ? "" : `, ${Math.round(created.elevationGainM)} m climb`;
      return `Imported ${file.name}: ${formatKm(created.distanceM)} in ${formatDuration(created.durationS)}${climb}.`;
    });
  }

  return (
    <section class="card" aria-labelledby="gpx-title">
      <h2 id="gpx-title">Import a GPX file</h2>
      <form onSubmit={onSubmit} aria-describedby="gpx-status">
        <fieldset disabled={busy}>
          <legend class="vh">GPX upload</legend>
          <label for="gpx-file">GPX file (a track with times)</label>
          <input id="gpx-file" name="file" type="file" accept=".gpx,application/gpx+xml" required />
          <label for="gpx-kind">Kind</label>
          <select id="gpx-kind" name="kind">
            {RUN_KINDS.map((k) => (
              <option value={k}>{k}</option>
            ))}
          </select>
          <button type="submit">Import</button>
        </fieldset>
      </form>
      <StatusLine id="gpx-status" status={status} />
    </section>
  );
}
