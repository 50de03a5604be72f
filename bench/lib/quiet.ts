/**
 * The machine may be shared (other people's test suites, builds): before a
 * measured run, wait a little for it to be quiet, so a run measures our
 * servers rather than a neighbour. Waiting is bounded per run and in total,
 * so a machine that never quietens still gets its benchmark in bounded time;
 * the report states what other processes used during each run either way.
 */
import { machineBusySeconds } from "./cpu.ts";

/** Busy share of a core, machine-wide, below which we call the machine quiet (our idle servers included). */
const QUIET_CORES = 0.15;
const WINDOW_MS = 500;

export type QuietGate = {
  /** Waits until quiet or a bound is hit; false when it gave up (the run goes ahead anyway). */
  wait(say: (line: string) => void): Promise<boolean>;
  /** Seconds spent waiting so far. */
  waitedSeconds(): number;
};

/**
 * A gate that waits at most `perRunSeconds` each time and `budgetSeconds` in all.
 *
 * @example
 * const quiet = createQuietGate(10, 90);
 * await quiet.wait((line) => progress.step(line));
 */
export function createQuietGate(perRunSeconds: number, budgetSeconds: number): QuietGate {
  let waitedMs = 0;
  return {
    async wait(say) {
      const t0 = performance.now();
      const limitMs = Math.min(perRunSeconds * 1000, budgetSeconds * 1000 - waitedMs);
      if (limitMs <= 0) return false;
      let told = false;
      try {
        while (true) {
          const cores = await busyCores();
          if (cores < QUIET_CORES) return true;
          if (performance.now() - t0 > limitMs) {
            say(`machine still busy (${pct(cores)} of a core used by others); measuring anyway`);
            return false;
          }
          if (!told) say(`waiting for the machine to be quiet (${pct(cores)} of a core in use by others)…`);
          told = true;
        }
      } finally {
        waitedMs += performance.now() - t0;
      }
    },
    waitedSeconds: () => waitedMs / 1000,
  };
}

/** Cores busy machine-wide over the next half second. */
async function busyCores(): Promise<number> {
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  await Bun.sleep(WINDOW_MS);
  return (machineBusySeconds() - busy0) / ((performance.now() - t0) / 1000);
}

function pct(cores: number): string {
  return `${(cores * 100).toFixed(0)} %`;
}
