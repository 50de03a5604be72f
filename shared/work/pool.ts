/**
 * A bounded pool of worker threads for CPU-heavy request work (parsing a
 * large upload, building a report), so that one caller's heavy request never
 * blocks a service's event loop for everybody else.
 *
 * - At most `workers` jobs run at once, each on its own thread; at most
 *   `queue` more wait. Beyond that a job is refused with 503 and a
 *   `Retry-After` estimated from how long jobs take.
 * - One caller may have at most `perCaller` jobs running or waiting; beyond
 *   that 429 with `Retry-After`, so that one account cannot fill the pool.
 * - A job has the deadline of the request that started it (shared/deadline):
 *   once it passes, a waiting job is dropped and a running one is stopped
 *   (its thread is ended and replaced), with a 504 problem.
 * - Threads start when needed and end after `idleMs` without work; they never
 *   keep the process alive.
 */
import { availableParallelism } from "node:os";
import { currentDeadline, deadlinePassed } from "../deadline/index.ts";
import { MeshError } from "../errors/index.ts";
import { builtModule } from "../runtime/built-module.ts";
import type { WorkReply } from "./worker.ts";

export type WorkPoolOptions = {
  /** What the work is, for problems and figures ("GPX import"). */
  name: string;
  /** The worker module; its top level calls `serveWork` (shared/work/worker.ts). */
  module: string | URL;
  /** Threads at most (default: one fewer than the cores, at least 1). */
  workers?: number;
  /** Jobs that may wait for a thread (default: 2 × workers); more are refused with 503. */
  queue?: number;
  /** Jobs one caller may have running or waiting (default 1); more are refused with 429. */
  perCaller?: number;
  /** A thread idle this long ends (default 30 s). */
  idleMs?: number;
};

/** A job that failed inside its worker: `name` and `message` are those of the worker's error. */
export class WorkFailed extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** What the pool is doing, for `$SRV.STATS`, metrics and tests. */
export type WorkPoolFigures = {
  threads: number;
  running: number;
  queued: number;
  done: number;
  /** Refused because the caller had enough in progress (429). */
  refusedCaller: number;
  /** Refused because the pool and its queue were full (503). */
  refusedFull: number;
  /** Dropped or stopped at their deadline (504). */
  abandoned: number;
};

type Job = {
  id: number;
  input: unknown;
  transfer: Transferable[];
  caller: string;
  deadline: number | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  thread: Thread | null;
  started: number;
  settled: boolean;
  resolve(value: unknown): void;
  reject(err: unknown): void;
};

type Thread = { worker: Worker; job: Job | null; idle: ReturnType<typeof setTimeout> | undefined };

export class WorkPool<I, O> {
  readonly #module: string | URL;
  readonly #name: string;
  readonly #workers: number;
  readonly #queueLimit: number;
  readonly #perCaller: number;
  readonly #idleMs: number;
  readonly #threads = new Set<Thread>();
  readonly #queue: Job[] = [];
  readonly #perCallerCount = new Map<string, number>();
  #nextId = 1;
  #meanMs = 1000;
  #closed = false;
  readonly #figures = { done: 0, refusedCaller: 0, refusedFull: 0, abandoned: 0 };

  constructor(options: WorkPoolOptions) {
    this.#module = builtModule(options.module);
    this.#name = options.name;
    this.#workers = Math.max(1, options.workers ?? availableParallelism() - 1);
    this.#queueLimit = Math.max(0, options.queue ?? 2 * this.#workers);
    this.#perCaller = Math.max(1, options.perCaller ?? 1);
    this.#idleMs = options.idleMs ?? 30_000;
  }

  /**
   * Runs one job on a thread and resolves with its value. Rejects with a 429,
   * 503 or 504 `MeshError` when refused or abandoned (see the module comment),
   * and with a `WorkFailed` when the worker's function threw.
   *
   * @example
   * const summary = await pool.run(bytes, { caller: owner, transfer: [bytes] });
   */
  run(input: I, options: { caller?: string; transfer?: Transferable[]; deadline?: number } = {}): Promise<O> {
    if (this.#closed)
      return Promise.reject(new MeshError(503, { detail: `${this.#name}: the service is stopping` }));
    const deadline = options.deadline ?? currentDeadline();
    if (deadline !== undefined && Date.now() >= deadline) {
      this.#figures.abandoned++;
      return Promise.reject(deadlinePassed(`${this.#name} was not started`));
    }
    const caller = options.caller ?? "";
    const mine = this.#perCallerCount.get(caller) ?? 0;
    if (mine >= this.#perCaller) {
      this.#figures.refusedCaller++;
      return Promise.reject(
        new MeshError(429, {
          detail: `${this.#name}: you have ${mine} in progress already (at most ${this.#perCaller} at a time); send the next one when it is answered`,
          headers: { "retry-after": String(this.#retryAfterS(1)) },
        }),
      );
    }
    const idle = this.#idleThread();
    if (!idle && this.#threads.size >= this.#workers && this.#queue.length >= this.#queueLimit) {
      this.#figures.refusedFull++;
      return Promise.reject(
        new MeshError(503, {
          detail: `${this.#name}: this instance is busy with ${this.#threads.size + this.#queue.length} of them; retry later`,
          headers: { "retry-after": String(this.#retryAfterS(this.#queue.length + this.#threads.size)) },
        }),
      );
    }
    return new Promise<O>((resolve, reject) => {
      const job: Job = {
        id: this.#nextId++,
        input,
        transfer: options.transfer ?? [],
        caller,
        deadline,
        timer: undefined,
        thread: null,
        started: 0,
        settled: false,
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      this.#perCallerCount.set(caller, mine + 1);
      if (deadline !== undefined) job.timer = setTimeout(() => this.#abandon(job), deadline - Date.now());
      const thread = idle ?? (this.#threads.size < this.#workers ? this.#spawn() : null);
      if (thread) this.#start(thread, job);
      else this.#queue.push(job);
    });
  }

  figures(): WorkPoolFigures {
    let running = 0;
    for (const t of this.#threads) if (t.job) running++;
    return { threads: this.#threads.size, running, queued: this.#queue.length, ...this.#figures };
  }

  /** Ends every thread; jobs still waiting or running are refused with 503. */
  close(): void {
    this.#closed = true;
    for (const job of this.#queue.splice(0))
      this.#finish(job, new MeshError(503, { detail: `${this.#name}: the service is stopping` }));
    for (const t of [...this.#threads]) {
      if (t.job)
        this.#finish(t.job, new MeshError(503, { detail: `${this.#name}: the service is stopping` }));
      this.#end(t);
    }
  }

  #idleThread(): Thread | null {
    for (const t of this.#threads) if (!t.job) return t;
    return null;
  }

  #spawn(): Thread {
    const worker = new Worker(this.#module);
    // Bun's Worker can be unref'd: an idle thread never keeps the process alive.
    (worker as Worker & { unref?: () => void }).unref?.();
    const thread: Thread = { worker, job: null, idle: undefined };
    worker.onmessage = (event: MessageEvent<WorkReply<O>>) => this.#answered(thread, event.data);
    worker.onerror = (event: ErrorEvent) => {
      // The worker itself failed (its module did not load, or it crashed): its job fails, the thread is replaced.
      const job = thread.job;
      this.#end(thread);
      if (job)
        this.#finish(job, new WorkFailed("Error", `${this.#name} failed in its worker: ${event.message}`));
      this.#next();
    };
    this.#threads.add(thread);
    return thread;
  }

  #start(thread: Thread, job: Job): void {
    clearTimeout(thread.idle);
    thread.job = job;
    job.thread = thread;
    job.started = performance.now();
    thread.worker.postMessage({ id: job.id, input: job.input }, job.transfer);
    job.input = null;
  }

  #answered(thread: Thread, reply: WorkReply<O>): void {
    const job = thread.job;
    if (!job || job.id !== reply.id) return;
    thread.job = null;
    const took = performance.now() - job.started;
    this.#meanMs = 0.8 * this.#meanMs + 0.2 * took;
    this.#figures.done++;
    if (reply.ok) this.#finish(job, null, reply.value);
    else this.#finish(job, new WorkFailed(reply.error.name, reply.error.message));
    this.#next(thread);
  }

  /** The deadline passed: drop the job from the queue, or stop the thread that runs it. */
  #abandon(job: Job): void {
    this.#figures.abandoned++;
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) this.#queue.splice(queued, 1);
    else if (job.thread) {
      this.#end(job.thread);
      this.#next();
    }
    this.#finish(job, deadlinePassed(`${this.#name} was stopped`));
  }

  /** Gives `free` (or a new thread) the next waiting job; an idle thread ends after idleMs. */
  #next(free?: Thread): void {
    const job = this.#queue.shift();
    if (!job) {
      if (free) free.idle = setTimeout(() => this.#end(free), this.#idleMs);
      return;
    }
    this.#start(free ?? this.#spawn(), job);
  }

  #end(thread: Thread): void {
    clearTimeout(thread.idle);
    thread.job = null;
    this.#threads.delete(thread);
    thread.worker.terminate();
  }

  #finish(job: Job, err: unknown, value?: unknown): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.timer);
    job.thread = null;
    const n = (this.#perCallerCount.get(job.caller) ?? 1) - 1;
    if (n > 0) this.#perCallerCount.set(job.caller, n);
    else this.#perCallerCount.delete(job.caller);
    if (err) job.reject(err);
    else job.resolve(value);
  }

  /** Seconds until `ahead` jobs are likely done, at least 1. */
  #retryAfterS(ahead: number): number {
    return Math.max(1, Math.ceil((ahead * this.#meanMs) / this.#workers / 1000));
  }
}
