/** @jsxImportSource hono/jsx/dom */
/** The signed-in page: logging runs, the runs list, totals, bests and plans. */
import type { Run, RunPage } from "@runnerly/runs/contract.ts";
import { useEffect, useState } from "hono/jsx/dom";
import { api } from "./api.ts";
import { ImportGpx } from "./import-gpx.tsx";
import { LogRun } from "./log-run.tsx";
import { Plans } from "./plans.tsx";
import { RunsList } from "./runs-list.tsx";
import { describe } from "./status.tsx";
import { Totals } from "./totals.tsx";
import { useStats } from "./use-stats.ts";

/** Everything after sign-in; `logged` counts runs added here so lists and totals follow. */
export function Dashboard() {
  const [logged, setLogged] = useState(0);
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [runsError, setRunsError] = useState<string | null>(null);
  const stats = useStats(logged);

  useEffect(() => {
    let cancelled = false;
    api<RunPage>("/api/runs/runs?limit=10")
      .then((page) => {
        if (cancelled) return;
        setRuns(page.items);
        setRunsError(null);
      })
      .catch((err) => {
        if (!cancelled) setRunsError(describe(err));
      });
    return () => {
      cancelled = true;
    };
  }, [logged]);

  const onLogged = (_run: Run) => setLogged((n) => n + 1);
  return (
    <div class="grid">
      <LogRun onLogged={onLogged} />
      <ImportGpx onLogged={onLogged} />
      <RunsList runs={runs} error={runsError} />
      <Totals stats={stats} />
      <Plans statsRuns={stats.data?.summary.runs} />
    </div>
  );
}
