/**
 * An edge running as its own process (Deno, workerd) for the portability
 * tests: started, waited for until it answers (bounded, never a fixed sleep),
 * and stopped by its PID, gracefully first. Its output is kept for the error
 * message when it fails to start.
 */
import type { Subprocess } from "bun";

/** An edge under test, whatever runs it. */
export type RunningEdge = { base: string; stop(): Promise<void> };

export type EdgeProcessOptions = {
  /** For messages: "Deno", "workerd". */
  runtime: string;
  command: string[];
  env: Record<string, string>;
  port: number;
  cwd?: string;
  /** Removed after the process stopped (build output). */
  cleanup?: () => void;
};

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5000;

const live = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

/**
 * Spawns the edge and resolves once `GET /healthz` answers 200.
 *
 * @example
 * const edge = await spawnEdge({ runtime: "Deno", command, env, port });
 * afterAll(() => edge.stop());
 */
export async function spawnEdge(options: EdgeProcessOptions): Promise<RunningEdge> {
  const { runtime, command, env, port } = options;
  const proc = Bun.spawn(command, { env, cwd: options.cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  live.add(proc);
  const output = collect(proc);
  const base = `http://127.0.0.1:${port}`;

  async function stop(): Promise<void> {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      const exited = await Promise.race([proc.exited.then(() => true), delay(STOP_TIMEOUT_MS, false)]);
      if (!exited) proc.kill("SIGKILL");
      await proc.exited;
    }
    live.delete(proc);
    options.cleanup?.();
  }

  const started = performance.now();
  while (true) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      await stop();
      throw new Error(
        `${runtime} edge exited (${proc.exitCode ?? proc.signalCode}) before answering:\n${output()}`,
      );
    }
    if (await answers(`${base}/healthz`)) return { base, stop };
    if (performance.now() - started > START_TIMEOUT_MS) {
      await stop();
      throw new Error(
        `${runtime} edge did not answer on ${base} within ${START_TIMEOUT_MS} ms:\n${output()}`,
      );
    }
    await delay(50, undefined);
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Drains stdout and stderr (a full pipe would block the child) and keeps the last 8 KiB. */
function collect(proc: Subprocess<"ignore", "pipe", "pipe">): () => string {
  let text = "";
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async function read() {
      const decoder = new TextDecoder();
      const reader = stream.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        text = (text + decoder.decode(r.value, { stream: true })).slice(-8192);
      }
    })();
  }
  return () => text;
}

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}
