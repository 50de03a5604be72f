/**
 * The processes a benchmark starts: spawned with their output in log files,
 * stopped by PID (SIGTERM, then SIGKILL), and all killed, with their own
 * children, if the runner dies.
 * Also what /proc tells about them: resident memory and child processes.
 */
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";

/** A server process the runner started. */
export type Child = { name: string; pid: number; proc: Subprocess; log: string };

const live = new Set<Child>();
// If the runner dies, kill what it started and their children: the edge's
// workers would outlive a supervisor killed on its own.
process.on("exit", () => {
  for (const c of live) killTree(c.pid);
});

/** SIGKILL to a process and all its descendants (synchronous: usable in an exit handler). */
export function killTree(pid: number): void {
  for (const child of childPids(pid)) killTree(child);
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/**
 * Starts `argv` with stdout and stderr written to `<logDir>/<name>.log` (emptied first).
 *
 * @example
 * const edge = spawnServer("edge", ["taskset", "-c", "0", "bun", "edge/main.ts"], { env, logDir });
 */
export function spawnServer(
  name: string,
  argv: string[],
  options: { env: Record<string, string | undefined>; logDir: string; cwd?: string },
): Child {
  const log = join(options.logDir, `${name.replace(/[^\w.-]+/g, "_")}.log`);
  // One descriptor, truncated, for both streams: with a Bun.file per stream each
  // wrote from offset 0 over the other, and an earlier run's lines stayed after
  // them (a readiness line of the last run must not be taken for this one's).
  const out = openSync(log, "w");
  let proc: Subprocess;
  try {
    proc = Bun.spawn(argv, { env: options.env, cwd: options.cwd, stdout: out, stderr: out, stdin: "ignore" });
  } finally {
    closeSync(out); // the child has its own copy
  }
  const child = { name, pid: proc.pid, proc, log };
  live.add(child);
  return child;
}

/** Stops one child: SIGTERM, SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopServer(child: Child, graceMs = 5000): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) {
    child.proc.kill("SIGTERM");
    const timer = setTimeout(() => killTree(child.pid), graceMs);
    await child.proc.exited;
    clearTimeout(timer);
  }
  live.delete(child);
}

/** Stops several children at once. */
export async function stopServers(children: Child[]): Promise<void> {
  await Promise.all(children.map((c) => stopServer(c)));
}

/** Throws with the tail of its log when a child has exited (it was meant to keep running). */
export function assertRunning(child: Child): void {
  if (child.proc.exitCode === null && child.proc.signalCode === null) return;
  let tail = "";
  try {
    tail = readFileSync(child.log, "utf8").slice(-1500);
  } catch {}
  throw new Error(
    `${child.name} exited (${child.proc.exitCode ?? child.proc.signalCode}); log ${child.log}:\n${tail}`,
  );
}

/** Resident set size of a process in MB (10^6 bytes; VmRSS of /proc/<pid>/status); NaN when gone. */
export function rssMB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? (Number(m[1]) * 1024) / 1e6 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** PIDs of a process's direct children (from every thread's children list). */
export function childPids(pid: number): number[] {
  const pids = new Set<number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
      for (const p of text.split(/\s+/)) if (p) pids.add(Number(p));
    }
  } catch {
    // the process is gone
  }
  return [...pids];
}
