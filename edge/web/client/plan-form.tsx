/** @jsxImportSource hono/jsx/dom */
/** "Create a plan": a race (name, date, distance) and a goal time, posted to the plans service. */
import type { PlanWithProgress } from "@runnerly/plans/contract.ts";
import { api } from "./api.ts";
import { localDate, parseDuration, RACE_DATE_MAX_DAYS, RACE_DISTANCES } from "./format.ts";
import { StatusLine, useAction } from "./status.tsx";

/** The form; `onCreated` gets the plan with its weeks (and progress, when stats answered). */
export function PlanForm({ onCreated }: { onCreated: (plan: PlanWithProgress) => void }) {
  const { busy, status, run } = useAction();
  const today = new Date();

  function onSubmit(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    void run(async () => {
      const goalTimeS = parseDuration(String(data.get("goal")));
      if (goalTimeS === null) throw new Error("Goal time: enter it as hh:mm:ss, like 1:45:00.");
      const plan = await api<PlanWithProgress>("/api/plans/plans", {
        method: "POST",
        json: {
          name: String(data.get("name")).trim(),
          raceDate: String(data.get("raceDate")),
          raceDistanceM: Number(data.get("distance")),
          goalTimeS,
        },
      });
      form.reset();
      onCreated(plan);
      return `Created “${plan.name}” with ${plan.weeks.length} weeks.`;
    });
  }

  return (
    <form class="plan-form" onSubmit={onSubmit} aria-describedby="plan-status">
      <fieldset disabled={busy}>
        <legend>Create a plan</legend>
        <label for="plan-name">Name</label>
        <input id="plan-name" name="name" type="text" maxlength={100} required placeholder="Spring 10k" />
        <div class="row">
          <div>
            <label for="plan-date">Race date</label>
            <input
              id="plan-date"
              name="raceDate"
              type="date"
              min={localDate(today, 1)}
              max={localDate(today, RACE_DATE_MAX_DAYS)}
              required
            />
          </div>
          <div>
            <label for="plan-distance">Distance</label>
            <select id="plan-distance" name="distance">
              {RACE_DISTANCES.map((d) => (
                <option value={String(d.value)}>{d.label}</option>
              ))}
            </select>
          </div>
        </div>
        <label for="plan-goal">Goal time (hh:mm:ss)</label>
        <input
          id="plan-goal"
          name="goal"
          type="text"
          inputmode="numeric"
          placeholder="0:50:00"
          pattern="\d{1,3}(:[0-5]\d){0,2}"
          required
        />
        <button type="submit">Create plan</button>
      </fieldset>
      <StatusLine id="plan-status" status={status} />
    </form>
  );
}
