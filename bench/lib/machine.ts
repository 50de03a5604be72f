/** The machine a benchmark ran on, as BENCHMARKS.md describes it. */
import { readFileSync } from "node:fs";
import { availableParallelism, release, totalmem } from "node:os";
import { wrkBin } from "./wrk.ts";

export type Machine = {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  kernel: string;
  bun: string;
  natsServer: string;
  wrk: string;
  date: string;
  /** The commit measured (`git describe --always --dirty`), or BENCH_COMMIT when run outside a checkout. */
  commit: string;
};

/**
 * Reads /proc, /etc/os-release and the tools' own version output.
 *
 * @example
 * describeMachine("/usr/sbin/nats-server").cpu; // "Intel(R) Xeon(R) Processor"
 */
export function describeMachine(natsServerBin: string): Machine {
  return {
    cpu: /^model name\s*:\s*(.+)$/m.exec(read("/proc/cpuinfo"))?.[1]?.trim() ?? "unknown",
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(read("/etc/os-release"))?.[1] ?? "unknown",
    kernel: release(),
    bun: Bun.version,
    natsServer: firstLine([natsServerBin, "--version"]).replace(/^nats-server:\s*/, ""),
    // wrk prints its version in the usage text it shows for -v.
    wrk: /wrk (\S+)/.exec(firstLine([wrkBin(), "-v"]))?.[1] ?? "unknown",
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    commit: process.env.BENCH_COMMIT ?? firstLine(["git", "describe", "--always", "--dirty"]),
  };
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function firstLine(argv: string[]): string {
  try {
    const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
    return `${r.stdout.toString()}${r.stderr.toString()}`.trim().split("\n")[0] ?? "unknown";
  } catch {
    return "unknown";
  }
}
