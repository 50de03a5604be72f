/**
 * Test helpers for the launchers (scripts/dev.ts, scripts/single.ts): start
 * one on free ports with a temporary data dir, read its output as it comes,
 * find the processes it started, and poll a URL with a bound.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "@runnerly/kit/testing";
import type { Subprocess } from "bun";
import { forEachLine } from "./dev/output.ts";

const repo = resolve(import.meta.dir, "..");

/** Collects a process's output lines and waits for one matching a pattern. */
export class OutputWatcher {
  readonly lines: string[] = [];
  private open: number;
  private waiters: Array<() => void> = [];

  constructor(streams: ReadableStream<Uint8Array>[]) {
    this.open = streams.length;
    for (const stream of streams) {
      void forEachLine(stream, (line) => {
        this.lines.push(line);
        this.wake();
      }).finally(() => {
        this.open--;
        this.wake();
      });
    }
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves with the first match at or after line `from`; rejects after `ms` with the output so far. */
  waitFor(pattern: RegExp, ms: number, from = 0): Promise<RegExpExecArray> {
    return new Promise((resolvePromise, reject) => {
      const check = () => {
        for (let i = from; i < this.lines.length; i++) {
          const match = pattern.exec(this.lines[i] ?? "");
          if (match) {
            done();
            resolvePromise(match);
            return;
          }
        }
        if (this.open === 0) {
          done();
          reject(new Error(`the process ended before a line matched ${pattern}:\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no output line matched ${pattern} within ${ms} ms:\n${this.tail()}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      this.waiters.push(check);
      check();
    });
  }

  /** The last line matching `pattern`, if any. */
  last(pattern: RegExp): RegExpExecArray | null {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const match = pattern.exec(this.lines[i] ?? "");
      if (match) return match;
    }
    return null;
  }

  /** Every line matching `pattern`, from line `from` on. */
  all(pattern: RegExp, from = 0): string[] {
    return this.lines.slice(from).filter((line) => pattern.test(line));
  }

  tail(n = 40): string {
    return this.lines.slice(-n).join("\n");
  }
}

/** PIDs of every live descendant of `pid` (children, grandchildren, …), read from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() ?? -1) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** The command line of a live process. */
export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
}

/** Polls `url` until `accept(status)`; returns the status and the time it took. */
export async function pollStatus(url: string, accept: (status: number) => boolean, ms: number) {
  const started = performance.now();
  let last = 0;
  while (performance.now() - started < ms) {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) }).catch(() => null);
    await res?.body?.cancel();
    last = res?.status ?? 0;
    if (accept(last)) return { status: last, ms: performance.now() - started };
  }
  throw new Error(`GET ${url}: still ${last} after ${ms} ms`);
}

export type Launched = {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  output: OutputWatcher;
  /** `http://127.0.0.1:<port>` of its edge. */
  edge: string;
  dataDir: string;
  /** SIGKILL to it and everything it started (if still running), then the data dir removed. */
  cleanUp(): Promise<void>;
};

/**
 * Starts a launcher (`bun [bunFlags] <script>`, or a whole command line such
 * as `["npm", "run", "dev"]`) with its own nats-server and edge on free ports
 * and a temporary data dir; resolves once it printed `Runnerly ready`.
 *
 * @example
 * const stack = await launch("scripts/single.ts", { bunFlags: ["--max-http-header-size=65536"] });
 * await fetch(`${stack.edge}/healthz`);
 * await stack.cleanUp();
 */
export async function launch(
  script: string | string[],
  options: { env?: Record<string, string>; bunFlags?: string[]; readyMs?: number } = {},
): Promise<Launched> {
  const [edgePort, natsPort] = [await freePort(), await freePort()];
  const edge = `http://127.0.0.1:${edgePort}`;
  const dataDir = mkdtempSync(join(tmpdir(), "runnerly-launcher-"));
  // The launcher starts its own nats-server: drop any NATS_URL of the caller.
  const { NATS_URL: _ignored, ...inherited } = process.env;
  const cmd = Array.isArray(script) ? script : [process.execPath, ...(options.bunFlags ?? []), script];
  const proc = Bun.spawn(cmd, {
    cwd: repo,
    env: {
      ...inherited,
      EDGE_PORT: String(edgePort),
      NATS_PORT: String(natsPort),
      RUNNERLY_DATA_DIR: dataDir,
      NO_COLOR: "1",
      ...options.env,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = new OutputWatcher([proc.stdout, proc.stderr]);
  const cleanUp = async () => {
    if (proc.exitCode === null) {
      for (const pid of [...descendants(proc.pid), proc.pid]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await proc.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await output.waitFor(/Runnerly ready/, options.readyMs ?? 60_000);
  } catch (err) {
    await cleanUp();
    throw err;
  }
  return { proc, output, edge, dataDir, cleanUp };
}
