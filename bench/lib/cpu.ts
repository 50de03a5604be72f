/**
 * CPU accounting from /proc: how much CPU each server process used during a
 * run (so per-request costs can be split between edge, NATS and service), and
 * how much was used by processes that are not ours — the machine is shared,
 * and a busy neighbour makes a run worth less.
 */
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * CPU seconds (user + system) a process has used so far; NaN when it is gone.
 * With `reapedChildren`, adds what its exited children used (wrk, the NATS
 * load client: they are gone by the time a run is measured).
 */
export function processCpuSeconds(pid: number, reapedChildren = false): number {
  const f = statFields(pid);
  if (!f) return Number.NaN;
  const own = f[11]! + f[12]!;
  return (reapedChildren ? own + f[13]! + f[14]! : own) / TICKS_PER_SECOND;
}

/** CPU seconds a process has spent in the kernel (system calls: socket reads and writes, mostly). */
export function processSystemSeconds(pid: number): number {
  const f = statFields(pid);
  return f ? f[12]! / TICKS_PER_SECOND : Number.NaN;
}

/** The numeric fields of /proc/<pid>/stat after the command name (utime is [11]); null when gone. */
function statFields(pid: number): number[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces; the fields start after its closing ") ".
    return stat
      .slice(stat.lastIndexOf(")") + 2)
      .split(" ")
      .map(Number);
  } catch {
    return null;
  }
}

/** Busy CPU seconds of the whole machine so far (all cores, /proc/stat). */
export function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
    TICKS_PER_SECOND
  );
}

/** What a meter saw between start and stop. */
export type CpuUse = {
  seconds: number;
  /** CPU seconds per named group of our processes. */
  groups: Record<string, number>;
  /** Of which in the kernel. */
  groupsSystem: Record<string, number>;
  /** CPU seconds of the load generator (wrk or the NATS client) and this runner. */
  load: number;
  /** CPU seconds used by everything else (other people's processes, the kernel's own work). */
  foreign: number;
};

/**
 * Measures CPU use of named process groups over an interval.
 *
 * The runner and the load generators it has waited for count as ours too.
 *
 * @example
 * const stop = startCpuMeter({ edge: [pid], nats: [natsPid] });
 * await runWrk(…); const use = stop();
 */
export function startCpuMeter(groups: Record<string, number[]>) {
  const t0 = performance.now();
  const busy0 = machineBusySeconds();
  const before = snapshot(groups, processCpuSeconds);
  const beforeSys = snapshot(groups, processSystemSeconds);
  const self0 = processCpuSeconds(process.pid, true);
  return function stopCpuMeter(): CpuUse {
    const after = snapshot(groups, processCpuSeconds);
    const afterSys = snapshot(groups, processSystemSeconds);
    const used: Record<string, number> = {};
    const usedSys: Record<string, number> = {};
    const load = processCpuSeconds(process.pid, true) - self0;
    let ours = load;
    for (const name of Object.keys(groups)) {
      used[name] = Math.max(0, (after[name] ?? 0) - (before[name] ?? 0));
      usedSys[name] = Math.max(0, (afterSys[name] ?? 0) - (beforeSys[name] ?? 0));
      ours += used[name]!;
    }
    const seconds = (performance.now() - t0) / 1000;
    return {
      seconds,
      groups: used,
      groupsSystem: usedSys,
      load,
      foreign: Math.max(0, machineBusySeconds() - busy0 - ours),
    };
  };
}

function snapshot(groups: Record<string, number[]>, read: (pid: number) => number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pids] of Object.entries(groups)) {
    out[name] = pids
      .map((pid) => read(pid))
      .filter(Number.isFinite)
      .reduce((a, b) => a + b, 0);
  }
  return out;
}
