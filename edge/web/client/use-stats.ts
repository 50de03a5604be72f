/**
 * The person's statistics: summary, weekly and monthly totals, bests. Stats
 * counts runs from events, a moment after the runs service stored them, so
 * after a run is logged this keeps asking (with growing pauses, for about
 * twenty seconds) until the summary counts as many runs as expected.
 */
import type { PeriodTotal, PersonalBest, Summary } from "@runnerly/stats/contract.ts";
import { useEffect, useRef, useState } from "hono/jsx/dom";
import { api } from "./api.ts";
import { describe } from "./status.tsx";

export type StatsData = {
  summary: Summary;
  weekly: PeriodTotal[];
  monthly: PeriodTotal[];
  bests: PersonalBest[];
};

export type StatsState = {
  data: StatsData | null;
  error: string | null;
  /** True while the totals are known to lag behind a run just logged. */
  updating: boolean;
  /** Asks again now. */
  refresh: () => void;
};

const DELAYS_MS = [250, 500, 1000, 1500, 2000, 3000, 3000, 4000, 5000];

/**
 * Weeks and months the charts show, up to now. Stats lists only periods with
 * runs, newest first, so the last this many of them cover every one with runs
 * in that range.
 */
export const PERIODS = 12;

/** Loads the stats, and again each time `logged` (runs logged on this page) grows. */
export function useStats(logged: number): StatsState {
  const [state, setState] = useState<Omit<StatsState, "refresh">>({
    data: null,
    error: null,
    updating: false,
  });
  const [asked, setAsked] = useState(0);
  const target = useRef(0);
  const seen = useRef({ logged: 0, runs: 0 });

  useEffect(() => {
    const added = logged - seen.current.logged;
    seen.current.logged = logged;
    if (added > 0) target.current = Math.max(target.current, seen.current.runs) + added;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    async function load(attempt: number): Promise<void> {
      try {
        const data = await fetchStats();
        if (cancelled) return;
        seen.current.runs = data.summary.runs;
        const delay = DELAYS_MS[attempt];
        const behind = data.summary.runs < target.current && delay !== undefined;
        setState({ data, error: null, updating: behind });
        if (behind) timer = setTimeout(() => void load(attempt + 1), delay);
      } catch (err) {
        if (!cancelled) setState((s) => ({ ...s, error: describe(err), updating: false }));
      }
    }
    void load(0);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [logged, asked]);

  return { ...state, refresh: () => setAsked((n) => n + 1) };
}

async function fetchStats(): Promise<StatsData> {
  const [summary, weekly, monthly, bests] = await Promise.all([
    api<Summary>("/api/stats/summary"),
    api<{ items: PeriodTotal[] }>(`/api/stats/weekly?limit=${PERIODS}`),
    api<{ items: PeriodTotal[] }>(`/api/stats/monthly?limit=${PERIODS}`),
    api<{ items: PersonalBest[] }>("/api/stats/bests"),
  ]);
  return { summary, weekly: weekly.items, monthly: monthly.items, bests: bests.items };
}
