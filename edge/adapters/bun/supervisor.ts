/**
 * Keeps N edge worker processes alive. Each worker is its own Bun process with
 * its own NATS connection, all listening on one port with `reusePort`, so the
 * kernel spreads new connections across them. A worker that dies is replaced
 * at once (with backoff only if replacements keep dying young) while the others
 * keep serving (the kit's RestartWithBackoff); `stop()` sends SIGTERM to all
 * and waits for them to drain.
 * Each worker is told the pool it belongs to (EDGE_POOL, a random id, and
 * EDGE_POOL_SIZE) so that it can ask its siblings for their figures.
 */
import { builtModule, RestartWithBackoff } from "@runnerly/kit/runtime";
import type { Logger } from "@runnerly/kit/web";
import type { Subprocess } from "bun";

export type WorkerPoolOptions = {
  /** How many worker processes. */
  size: number;
  /** The worker's entry file (its bundled `.js` is started when the `.ts` is not there: `runnerly build`). */
  entry: string;
  /** Environment of every worker (EDGE_WORKER, EDGE_POOL and EDGE_POOL_SIZE are added). */
  env: Record<string, string | undefined>;
  logger: Logger;
  /** How long a stopping worker may take before SIGKILL. */
  stopTimeoutMs: number;
  /** Flags for Bun itself (before the entry file), e.g. `--max-http-header-size=…`. */
  bunFlags?: string[];
};

type Slot = {
  index: number;
  proc: Subprocess | null;
  startedAt: number;
  restarts: RestartWithBackoff;
  ready: boolean;
};

/** Replace at once; only a worker that keeps dying young waits, from 100 ms up to 5 s. */
const RESTARTS = { immediateFirst: true, firstDelayMs: 100, maxDelayMs: 5000, healthyAfterMs: 10_000 };

/** A message a worker sends over IPC. */
export type WorkerMessage = { type: "ready"; port: number };

export class WorkerPool {
  private readonly slots: Slot[];
  /** The entry each worker starts: the sources', or the bundle's beside this one's. */
  private readonly entry: string;
  private stopping = false;
  private readyWaiters: (() => void)[] = [];
  /** The pool's id: its workers exchange figures on `edge.<id>.figures`. */
  readonly id = crypto.randomUUID().replaceAll("-", "").slice(0, 12);

  constructor(private readonly options: WorkerPoolOptions) {
    this.entry = builtModule(options.entry);
    this.slots = Array.from({ length: options.size }, (_, index) => ({
      index,
      proc: null,
      startedAt: 0,
      restarts: new RestartWithBackoff(RESTARTS),
      ready: false,
    }));
  }

  /** Starts every worker and resolves once all of them listen. */
  async start(): Promise<void> {
    for (const slot of this.slots) this.spawn(slot);
    await new Promise<void>((resolve) => {
      this.readyWaiters.push(resolve);
      this.checkReady();
    });
  }

  /** PIDs of the live workers, by slot. */
  pids(): (number | null)[] {
    return this.slots.map((s) => s.proc?.pid ?? null);
  }

  private spawn(slot: Slot): void {
    const { logger } = this.options;
    slot.startedAt = Date.now();
    slot.ready = false;
    const proc = Bun.spawn([process.execPath, ...(this.options.bunFlags ?? []), this.entry], {
      env: {
        ...this.options.env,
        EDGE_WORKER: String(slot.index),
        EDGE_POOL: this.id,
        EDGE_POOL_SIZE: String(this.options.size),
      },
      stdout: "inherit",
      stderr: "inherit",
      ipc: (message: WorkerMessage) => {
        if (message?.type !== "ready") return;
        slot.ready = true;
        this.checkReady();
      },
    });
    slot.proc = proc;
    logger.info({ worker: slot.index, pid: proc.pid }, "edge worker started");
    void proc.exited.then((code) => this.onExit(slot, proc, code));
  }

  private onExit(slot: Slot, proc: Subprocess, code: number): void {
    if (slot.proc !== proc) return;
    slot.proc = null;
    slot.ready = false;
    if (this.stopping) return;
    const delay = slot.restarts.ended(Date.now() - slot.startedAt, () => {
      if (!this.stopping) this.spawn(slot);
    });
    this.options.logger.warn(
      { worker: slot.index, pid: proc.pid, code, signal: proc.signalCode, restartInMs: delay },
      "edge worker died; replacing it",
    );
  }

  private checkReady(): void {
    if (!this.slots.every((s) => s.ready)) return;
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }

  /** SIGTERM to every worker; each drains its requests and NATS; SIGKILL after the timeout. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots) slot.restarts.stop();
    const procs = this.slots.map((s) => s.proc).filter((p): p is Subprocess => p !== null);
    for (const p of procs) p.kill("SIGTERM");
    const timer = setTimeout(() => {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    }, this.options.stopTimeoutMs);
    await Promise.all(procs.map((p) => p.exited));
    clearTimeout(timer);
  }
}
