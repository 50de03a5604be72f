/**
 * One supervised child process of the dev launcher: started in its own
 * process group (so Ctrl-C reaches only the launcher, which stops children in
 * order), its output tagged and pretty-printed, restarted with backoff when it
 * dies unexpectedly, and stopped with SIGTERM then SIGKILL by PID.
 */
import { RestartWithBackoff } from "@runnerly/kit/runtime";
import type { Subprocess } from "bun";
import { forEachLine, formatLogLine, makeTag, paint } from "./output.ts";

export type ChildOptions = {
  /** Short name used in the `[name]` tag and in messages. */
  name: string;
  cmd: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  /** Width the tags are padded to, so output lines up. */
  tagWidth: number;
  /** Called with every raw output line (stdout and stderr). */
  onLine?: (line: string) => void;
  /** Which raw lines to print (default: all). */
  show?: (line: string) => boolean;
};

const everyLive = new Set<Subprocess>();
// Last resort if the launcher dies of an error: no child outlives it.
process.on("exit", () => {
  for (const proc of everyLive) killGroup(proc.pid);
});

/** SIGKILL to a child's process group: the child (its leader) and anything it started. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group is already empty
  }
}

export class SupervisedProcess {
  /** Restart when the process exits on its own (turned off while stopping). */
  autoRestart = true;
  /** How many times it has exited on its own, and how it last did. */
  exits = 0;
  lastExit: string | null = null;
  private proc: Subprocess | null = null;
  private stopped = false;
  private readonly restarts = new RestartWithBackoff();
  private readonly tag: string;
  private readonly exitListeners: Array<(how: string) => void> = [];

  constructor(private readonly options: ChildOptions) {
    this.tag = makeTag(options.name, options.tagWidth);
  }

  get name(): string {
    return this.options.name;
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  /** Called each time the process exits on its own, with e.g. `code 1` or `signal SIGKILL`. */
  onExit(listener: (how: string) => void): void {
    this.exitListeners.push(listener);
  }

  /** Prints a line under this child's tag. */
  print(text: string): void {
    for (const line of text.split("\n")) console.log(`${this.tag} ${line}`);
  }

  start(): void {
    if (this.stopped) return;
    const { cmd, cwd, env } = this.options;
    const proc = Bun.spawn(cmd, {
      cwd,
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      detached: true,
    });
    this.proc = proc;
    everyLive.add(proc);
    this.print(paint.dim(`› started (pid ${proc.pid})`));
    const startedAt = Date.now();
    const output = Promise.all([this.pump(proc.stdout), this.pump(proc.stderr)]);
    void proc.exited.then(async () => {
      everyLive.delete(proc);
      killGroup(proc.pid);
      // Print its last lines before saying it exited (bounded: a stray holder of the pipe must not stall us).
      await Promise.race([output, Bun.sleep(250)]);
      if (this.proc === proc) this.proc = null;
      if (this.stopped) return;
      this.handleExit(proc, Date.now() - startedAt);
    });
  }

  /** Sends a signal to the running process (by its PID), e.g. SIGHUP to make nats-server reload. */
  signal(name: NodeJS.Signals): boolean {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return false;
    proc.kill(name);
    return true;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves once it is gone. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.autoRestart = false;
    this.restarts.stop();
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGTERM");
    const timer = setTimeout(() => {
      this.print(
        paint.yellow(`› still running after ${graceMs / 1000} s; sending SIGKILL to pid ${proc.pid}`),
      );
      killGroup(proc.pid);
    }, graceMs);
    await proc.exited;
    clearTimeout(timer);
  }

  private handleExit(proc: Subprocess, ranMs: number): void {
    const how = proc.signalCode ? `signal ${proc.signalCode}` : `code ${proc.exitCode}`;
    this.exits++;
    this.lastExit = how;
    for (const listener of this.exitListeners) listener(how);
    if (!this.autoRestart) {
      this.print(paint.red(`› exited (${how})`));
      return;
    }
    const delay = this.restarts.ended(ranMs, () => this.start());
    this.print(paint.yellow(`› exited unexpectedly (${how}); restarting in ${delay / 1000} s`));
  }

  private async pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const { onLine, show } = this.options;
    await forEachLine(stream, (line) => {
      onLine?.(line);
      if (!show || show(line)) this.print(formatLogLine(line));
    });
  }
}
