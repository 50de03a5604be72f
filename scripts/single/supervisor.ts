/**
 * One supervised Bun Worker of the one-process launcher: a service or the
 * edge in a thread of its own, with its own environment. Its log lines are
 * printed under a `[name]` tag as the dev launcher does for a process. When it
 * dies on its own (an uncaught error, an unhandled rejection, `process.exit`,
 * a failed start) the launcher says so — `[runs] › worker crashed (boom);
 * restarting in 0.5 s` — and starts a fresh worker with backoff; the other
 * workers never notice. `stop()` asks it to shut down gracefully and
 * terminates it if it does not within the grace period.
 */
import { RestartWithBackoff } from "@runnerly/kit/runtime";
import { formatLogLine, makeTag, paint } from "../dev/output.ts";
import { crashReason, type FromWorker, type ToWorker } from "./protocol.ts";

export type WorkerChildOptions = {
  /** Short name used in the `[name]` tag and in messages. */
  name: string;
  /** The worker's entry file (service-worker.ts or edge-worker.ts). */
  entry: string;
  /** Its `process.env`. */
  env: Record<string, string | undefined>;
  /** What its entry is started with. */
  job?: unknown;
  /** Width the tags are padded to, so output lines up. */
  tagWidth: number;
  /** Called with its URL each time it (re)starts. */
  onReady?: (url: string) => void;
  /** Called with every log line it writes. */
  onLine?: (line: string) => void;
};

export class SupervisedWorker {
  /** Restart when the worker ends on its own (turned off while stopping). */
  autoRestart = true;
  /** How many times it has crashed, and why it last did. */
  exits = 0;
  lastExit: string | null = null;
  /** Its URL while it runs. */
  url: string | null = null;
  private worker: Worker | null = null;
  private threadId = 0;
  private stopped = false;
  /** The same backoff as the dev launcher's processes. */
  private readonly restarts = new RestartWithBackoff();
  private readonly tag: string;
  private readonly env: Record<string, string>;

  constructor(private readonly options: WorkerChildOptions) {
    this.tag = makeTag(options.name, options.tagWidth);
    this.env = Object.fromEntries(
      Object.entries(options.env).filter((e): e is [string, string] => e[1] !== undefined),
    );
  }

  get name(): string {
    return this.options.name;
  }

  /** Whether a worker is running now (not crashed and waiting to restart). */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Prints a line under this worker's tag. */
  print(text: string): void {
    for (const line of text.split("\n")) console.log(`${this.tag} ${line}`);
  }

  start(): void {
    if (this.stopped) return;
    const worker = new Worker(this.options.entry, { env: this.env, name: this.options.name });
    const threadId = (worker as Worker & { threadId?: number }).threadId ?? ++this.threadId;
    const startedAt = Date.now();
    // Why it is ending, when it says so (or Bun reports an error) before it closes.
    let reason: string | null = null;
    let stopRequested = false;
    this.worker = worker;
    this.print(paint.dim(`› started (thread ${threadId})`));
    worker.addEventListener("message", (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      switch (message.type) {
        case "log":
          this.options.onLine?.(message.line);
          this.print(formatLogLine(message.line));
          break;
        case "ready":
          this.url = message.url;
          this.options.onReady?.(message.url);
          break;
        case "failed":
          reason = `failed to start: ${crashReason(message.error)}`;
          this.print(paint.red(message.error));
          break;
        case "crashed":
          reason = crashReason(message.error);
          this.print(paint.red(message.error));
          break;
        case "stopped":
          stopRequested = true;
          break;
      }
    });
    worker.addEventListener("error", (event) => {
      // Bun ends the worker after this; `terminate` makes sure of it.
      reason ??= crashReason(event.message ?? "error");
      worker.terminate();
    });
    worker.addEventListener("close", (event) => {
      if (this.worker === worker) this.worker = null;
      this.url = null;
      if (this.stopped || stopRequested) return;
      const code = (event as CloseEvent).code;
      this.handleCrash(reason ?? `exited with code ${code}`, Date.now() - startedAt);
    });
    const start: ToWorker = { type: "start", job: this.options.job };
    worker.postMessage(start);
  }

  /** Asks for a graceful stop; terminates the worker if it is still running after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.autoRestart = false;
    this.restarts.stop();
    const worker = this.worker;
    if (!worker) return;
    const closed = new Promise<void>((resolve) => worker.addEventListener("close", () => resolve()));
    const stop: ToWorker = { type: "stop" };
    worker.postMessage(stop);
    const timer = setTimeout(() => {
      this.print(paint.yellow(`› still running after ${graceMs / 1000} s; terminating the worker`));
      worker.terminate();
    }, graceMs);
    await closed;
    clearTimeout(timer);
    this.print(paint.dim("› stopped"));
  }

  private handleCrash(reason: string, ranMs: number): void {
    this.exits++;
    this.lastExit = reason;
    if (!this.autoRestart) {
      this.print(paint.red(`› worker crashed (${reason})`));
      return;
    }
    const delay = this.restarts.ended(ranMs, () => this.start());
    this.print(paint.yellow(`› worker crashed (${reason}); restarting in ${delay / 1000} s`));
  }
}
