/**
 * Integration test of the dev launcher (`bun scripts/dev.ts`): the real
 * nats-server, services and edge on free ports with a temporary data dir,
 * checked through the edge; then a service is killed and must come back, and
 * SIGTERM must stop everything.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "@runnerly/kit/testing";
import type { Subprocess } from "bun";
import { forEachLine } from "./dev/output.ts";

const repo = resolve(import.meta.dir, "..");
const readyMs = 60_000;

/** Collects a process's output lines and waits for one matching a pattern. */
class OutputWatcher {
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

  tail(n = 40): string {
    return this.lines.slice(-n).join("\n");
  }
}

/** PIDs of every live descendant of `pid` (children, grandchildren, …), read from /proc. */
function descendants(pid: number): number[] {
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
}

/** Polls `url` until `accept(status)`; returns the status and the time it took. */
async function pollStatus(url: string, accept: (status: number) => boolean, ms: number) {
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

describe("dev launcher", () => {
  let launcher: Subprocess<"ignore", "pipe", "pipe">;
  let output: OutputWatcher;
  let edge: string;
  let dataDir: string;

  beforeAll(async () => {
    const [edgePort, natsPort] = [await freePort(), await freePort()];
    edge = `http://127.0.0.1:${edgePort}`;
    dataDir = mkdtempSync(join(tmpdir(), "runnerly-dev-"));
    // The launcher starts its own nats-server: drop any NATS_URL of the caller.
    const { NATS_URL: _ignored, ...inherited } = process.env;
    const env = {
      ...inherited,
      EDGE_PORT: String(edgePort),
      NATS_PORT: String(natsPort),
      RUNNERLY_DATA_DIR: dataDir,
      NO_COLOR: "1",
    };
    launcher = Bun.spawn([process.execPath, "scripts/dev.ts"], {
      cwd: repo,
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    output = new OutputWatcher([launcher.stdout, launcher.stderr]);
    await output.waitFor(/Runnerly ready/, readyMs);
  }, readyMs + 5_000);

  afterAll(async () => {
    if (launcher && launcher.exitCode === null) {
      for (const pid of [...descendants(launcher.pid), launcher.pid]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await launcher.exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("serves the services through the edge", async () => {
    const health = await fetch(`${edge}/api/runs/healthz`);
    expect(health.status).toBe(200);

    const anonymous = await fetch(`${edge}/api/runs/runs`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("content-type")).toContain("application/problem+json");

    const unknown = await fetch(`${edge}/api/nope`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toContain("application/problem+json");
  });

  test("a killed service answers 503 at once and is restarted", async () => {
    const starts = /^\[runs\]\s+› started \(pid (\d+)\)/;
    const runsPid = Number(output.last(starts)?.[1]);
    expect(isAlive(runsPid)).toBe(true);
    const linesBefore = output.lines.length;

    process.kill(runsPid, "SIGKILL");
    // Once the launcher has seen it exit, its NATS connection is closed: from then on the edge must fail fast.
    await output.waitFor(/^\[runs\]\s+› exited unexpectedly/, 5_000, linesBefore);
    const down = await pollStatus(`${edge}/api/runs/healthz`, (s) => s === 503, 1_000);
    expect(down.ms).toBeLessThan(1_000);

    const restartedPid = Number((await output.waitFor(starts, 15_000, linesBefore))[1]);
    expect(restartedPid).not.toBe(runsPid);
    await pollStatus(`${edge}/api/runs/healthz`, (s) => s === 200, 15_000);
  }, 35_000);

  test("SIGTERM stops every child and exits 0", async () => {
    const pids = descendants(launcher.pid);
    expect(pids.length).toBeGreaterThanOrEqual(3); // nats-server, runs, edge

    launcher.kill("SIGTERM");
    const code = await Promise.race([launcher.exited, Bun.sleep(25_000).then(() => "timeout")]);
    expect(code).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
  }, 30_000);
});
