/**
 * CPU pinning with taskset: the servers get one set of cores, the load
 * generator (wrk, the NATS load client, this runner) another, so the load
 * generator never steals the servers' CPU. When taskset is missing or refuses,
 * nothing is pinned and the report says so.
 */
import { availableParallelism } from "node:os";

export type Pinning = {
  /** Whether taskset works here and there are cores to split. */
  pinned: boolean;
  /** taskset core lists, e.g. "0" and "1" (empty when not pinned). */
  serverCpus: string;
  loadCpus: string;
  /** One sentence for the output and BENCHMARKS.md. */
  summary: string;
};

/**
 * Decides the split: on 2 cores servers on CPU 0 and the load on CPU 1; on
 * more, the load keeps the last core and the servers get the rest.
 *
 * @example
 * const pin = detectPinning(); pin.summary; // "pinned: servers on CPU 0, load generator on CPU 1 (taskset)"
 */
export function detectPinning(cores = availableParallelism()): Pinning {
  const unpinned = (why: string): Pinning => ({
    pinned: false,
    serverCpus: "",
    loadCpus: "",
    summary: `NOT pinned (${why}): servers and load generator share all ${cores} cores`,
  });
  if (cores < 2) return unpinned("only one core");
  const taskset = Bun.which("taskset");
  if (!taskset) return unpinned("taskset not found; Debian package util-linux");
  const serverCpus = cores === 2 ? "0" : `0-${cores - 2}`;
  const loadCpus = String(cores - 1);
  const probe = Bun.spawnSync([taskset, "-c", serverCpus, "true"], { stderr: "pipe" });
  if (probe.exitCode !== 0) return unpinned(`taskset failed: ${probe.stderr.toString().trim()}`);
  return {
    pinned: true,
    serverCpus,
    loadCpus,
    summary: `pinned with taskset: servers on CPU ${serverCpus}, load generator on CPU ${loadCpus}`,
  };
}

/** The argv prefix that starts a server process on the server cores (empty when not pinned). */
export function serverPrefix(pin: Pinning): string[] {
  return pin.pinned ? ["taskset", "-c", pin.serverCpus] : [];
}

/** The argv prefix that starts a load generator on the load cores (empty when not pinned). */
export function loadPrefix(pin: Pinning): string[] {
  return pin.pinned ? ["taskset", "-c", pin.loadCpus] : [];
}

/** Moves a running process, every thread of it, to `cpus`. */
function moveTo(cpus: string, pid: number): void {
  Bun.spawnSync(["taskset", "-a", "-p", "-c", cpus, String(pid)], { stdout: "ignore" });
}

/** Moves a server started without a prefix (a nats-server from the kit's helper) to the server cores, when pinned. */
export function pinToServerCores(pin: Pinning, pid: number): void {
  if (pin.pinned) moveTo(pin.serverCpus, pid);
}

/** Moves a running process to the load cores, when pinned. */
export function pinToLoadCores(pin: Pinning, pid: number): void {
  if (pin.pinned) moveTo(pin.loadCpus, pid);
}

/** Moves this process (the runner, which polls and measures) to the load cores. */
export function pinSelfToLoadCores(pin: Pinning): void {
  pinToLoadCores(pin, process.pid);
}
