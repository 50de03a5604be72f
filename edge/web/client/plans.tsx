/** @jsxImportSource hono/jsx/dom */
/**
 * "Plans": create one, pick one, see its weeks and progress, ask for its
 * season report. The chosen plan is read again whenever stats has counted
 * more runs (`statsRuns`), because its progress comes from stats.
 */
import type { Plan, PlanWithProgress } from "@runnerly/plans/contract.ts";
import { useEffect, useState } from "hono/jsx/dom";
import { api } from "./api.ts";
import { PlanForm } from "./plan-form.tsx";
import { PlanProgress } from "./plan-progress.tsx";
import { SeasonReportPanel } from "./season-report.tsx";
import { describe } from "./status.tsx";

/** The plans card. */
export function Plans({ statsRuns }: { statsRuns: number | undefined }) {
  const [plans, setPlans] = useState<Plan[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [detail, setDetail] = useState<PlanWithProgress | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api<{ items: Plan[] }>("/api/plans/plans")
      .then(({ items }) => {
        setPlans(items);
        setSelected((s) => s ?? items[0]?.id ?? null);
      })
      .catch((err) => setError(describe(err)));
  }, []);

  useEffect(() => {
    if (!selected) return;
    let cancelled = false;
    api<PlanWithProgress>(`/api/plans/plans/${encodeURIComponent(selected)}`)
      .then((plan) => {
        if (cancelled) return;
        setDetail(plan);
        setError(null);
      })
      .catch((err) => {
        if (!cancelled) setError(describe(err));
      });
    return () => {
      cancelled = true;
    };
  }, [selected, statsRuns]);

  function onCreated(plan: PlanWithProgress) {
    setPlans((list) => [plan, ...(list ?? [])]);
    setDetail(plan);
    setSelected(plan.id);
  }

  const shown = detail && detail.id === selected ? detail : null;
  return (
    <section class="card wide" aria-labelledby="plans-title">
      <h2 id="plans-title">Plans</h2>
      <div class="plans">
        <div>
          <PlanForm onCreated={onCreated} />
          {plans && plans.length > 0 && (
            <nav aria-label="Your plans">
              <ul class="plan-list">
                {plans.map((p) => (
                  <li key={p.id}>
                    <button
                      type="button"
                      class="link"
                      aria-current={p.id === selected ? "true" : undefined}
                      onClick={() => setSelected(p.id)}
                    >
                      {p.name} <span class="muted">({p.raceDate})</span>
                    </button>
                  </li>
                ))}
              </ul>
            </nav>
          )}
        </div>
        <div>
          {error && <p class="status error">{error}</p>}
          {plans?.length === 0 && !shown && <p>No plans yet: create one for your next race.</p>}
          {selected && !shown && !error && <p>Loading the plan…</p>}
          {shown && <PlanProgress plan={shown} />}
          {shown && <SeasonReportPanel key={shown.id} planId={shown.id} />}
        </div>
      </div>
    </section>
  );
}
