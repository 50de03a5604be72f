/**
 * The submitting process of a tasks row, and how the runner talks to it.
 * The submitter (Runnerly's requester service, BullMQ's Queue + QueueEvents)
 * is a process of its own, so its CPU is counted like the worker's and the
 * broker's; the runner tells it over Bun's IPC channel to drive round trips
 * for a while, and gets the figures back.
 */
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { killTree } from "../lib/procs.ts";
import { driveRoundTrips, type RoundTripRun } from "./round-trips.ts";

type ToDriver = { type: "run"; seconds: number; window: number } | { type: "stop" };
type FromDriver = { type: "ready" } | { type: "ran"; run: RoundTripRun } | { type: "failed"; error: string };

/** A submitting process, started and ready. */
export type Driver = {
  name: string;
  pid: number;
  log: string;
  /** Round trips `window` at a time for `seconds`, in the driver process. */
  run(seconds: number, window: number): Promise<RoundTripRun>;
  /** Asks it to close its connections and exit; kills it if it has not within 5 s. */
  stop(): Promise<void>;
};

const live = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of live) killTree(p.pid);
});

/**
 * Spawns `argv` (a script that calls `serveDriver`) with its output in
 * `<logDir>/<name>.log`; resolves once it said it is ready.
 *
 * @example
 * const driver = await spawnDriver("bullmq-producer", [bun, "bench/tasks/bullmq-producer.ts"], { env, logDir });
 * const run = await driver.run(3, 64);
 */
export async function spawnDriver(
  name: string,
  argv: string[],
  options: { env: Record<string, string | undefined>; logDir: string; cwd?: string; readyMs?: number },
): Promise<Driver> {
  const log = join(options.logDir, `${name}.log`);
  const out = openSync(log, "w");
  let waiting: ((m: FromDriver) => void) | null = null;
  const inbox: FromDriver[] = [];
  let proc: Subprocess;
  try {
    proc = Bun.spawn(argv, {
      env: options.env,
      cwd: options.cwd,
      stdin: "ignore",
      stdout: out,
      stderr: out,
      serialization: "json",
      ipc(message: FromDriver) {
        if (waiting) waiting(message);
        else inbox.push(message);
      },
    });
  } finally {
    closeSync(out);
  }
  live.add(proc);
  const next = (ms: number, what: string) =>
    new Promise<FromDriver>((resolve, reject) => {
      const queued = inbox.shift();
      if (queued) return resolve(queued);
      let settled = false;
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        waiting = null;
        reject(new Error(`${name}: ${why}; log ${log}:\n${tail(log)}`));
      };
      const timer = setTimeout(() => fail(`no answer within ${ms} ms to ${what}`), ms);
      void proc.exited.then(() => fail("it exited"));
      waiting = (m) => {
        if (settled) return;
        settled = true;
        waiting = null;
        clearTimeout(timer);
        resolve(m);
      };
    });
  const hello = await next(options.readyMs ?? 30_000, "start");
  if (hello.type !== "ready") throw new Error(`${name}: ${JSON.stringify(hello)}`);
  return {
    name,
    pid: proc.pid,
    log,
    async run(seconds, window) {
      proc.send({ type: "run", seconds, window } satisfies ToDriver);
      const answer = await next(seconds * 1000 + 60_000, "run");
      if (answer.type !== "ran") throw new Error(`${name}: ${JSON.stringify(answer)}`);
      return answer.run;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.send({ type: "stop" } satisfies ToDriver);
        const timer = setTimeout(() => killTree(proc.pid), 5000);
        await proc.exited;
        clearTimeout(timer);
      }
      live.delete(proc);
    },
  };
}

/**
 * The driver process's side: says it is ready, runs round trips when told,
 * closes and exits when told to stop.
 *
 * @example
 * serveDriver({ roundTrip: (i) => submitAndWait(i), close: () => queue.close() });
 */
export function serveDriver(options: {
  roundTrip: (seq: number) => Promise<void>;
  close: () => Promise<void>;
}) {
  const send = (m: FromDriver) => process.send?.(m);
  let base = 0;
  process.on("message", async (m: ToDriver) => {
    if (m.type === "stop") {
      await options.close();
      process.exit(0);
    }
    try {
      const offset = base;
      const run = await driveRoundTrips({
        seconds: m.seconds,
        window: m.window,
        roundTrip: (seq) => options.roundTrip(offset + seq),
      });
      base += run.tasks + run.errors;
      send({ type: "ran", run });
    } catch (err) {
      send({ type: "failed", error: String(err) });
    }
  });
  send({ type: "ready" });
}

/**
 * Round trips waiting for their completion by id, for a submitter whose
 * completions arrive apart from its submissions: one seen before its round
 * trip waits for it is kept until it does.
 *
 * @example
 * const done = completions();
 * onResult((id) => done.seen(id));
 * await done.wait(id);
 */
export function completions(): { seen(id: string): void; wait(id: string): Promise<void> } {
  const waiting = new Map<string, () => void>();
  const early = new Set<string>();
  return {
    seen(id) {
      const resolve = waiting.get(id);
      if (resolve) {
        waiting.delete(id);
        resolve();
      } else {
        early.add(id);
      }
    },
    wait(id) {
      if (early.delete(id)) return Promise.resolve();
      return new Promise<void>((resolve) => waiting.set(id, resolve));
    },
  };
}

function tail(path: string): string {
  try {
    return readFileSync(path, "utf8").slice(-1500);
  } catch {
    return "";
  }
}
