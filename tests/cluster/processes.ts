/**
 * Runnerly's services and edge as real Bun processes for the cluster and
 * rolling-restart tests: each process's JSON log lines are kept (and its
 * errors echoed), so a test can wait for a line, read a service's URL and
 * instance id from its "service ready" line, and measure its NATS
 * reconnections; every process is stopped by PID.
 */
import { join, resolve } from "node:path";
import { waitFor } from "@runnerly/kit/testing";
import type { Subprocess } from "bun";

const repo = resolve(import.meta.dir, "../..");

/** A pino line as the kit's logger writes it. */
export type LogLine = { time: string; level: string; msg: string; [field: string]: unknown };

const live = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

/** One Bun process of the stack and what it logged. */
export class Proc {
  readonly lines: LogLine[] = [];
  /** Output that was not a JSON log line (a crash's stack trace, Bun's own messages). */
  readonly other: string[] = [];

  constructor(
    readonly label: string,
    readonly proc: Subprocess<"ignore", "pipe", "pipe">,
  ) {
    live.add(proc);
    void proc.exited.then(() => live.delete(proc));
    void this.collect(proc.stdout);
    void this.collect(proc.stderr);
  }

  get pid(): number {
    return this.proc.pid;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The first line at or after `from` for which `match` holds, within `ms`. */
  waitForLine(match: (l: LogLine) => boolean, ms: number, what: string, from = 0): Promise<LogLine> {
    return waitFor(
      () => {
        const line = this.lines.slice(from).find(match);
        if (!line && !this.alive) throw new Error(`${this.label} exited (${this.describeExit()})`);
        return line;
      },
      { timeoutMs: ms, what: `${this.label}: ${what}` },
    );
  }

  /** Lines whose message is `msg`. */
  logged(msg: string): LogLine[] {
    return this.lines.filter((l) => l.msg === msg);
  }

  /**
   * Each NATS outage of this process: from its "nats disconnected" line to the
   * "nats reconnected" line after it (ms), or null when it has not come back.
   */
  reconnections(): (number | null)[] {
    const out: (number | null)[] = [];
    let since: number | null = null;
    for (const l of this.lines) {
      if (l.msg.startsWith("nats disconnected")) {
        if (since !== null) out.push(null);
        since = Date.parse(l.time);
      } else if (l.msg === "nats reconnected" && since !== null) {
        out.push(Date.parse(l.time) - since);
        since = null;
      }
    }
    if (since !== null) out.push(null);
    return out;
  }

  /** SIGTERM, then waits for the exit; SIGKILL and an error if it takes longer than `ms`. */
  async stop(ms = 30_000): Promise<number> {
    if (!this.alive) return this.proc.exitCode ?? -1;
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), ms);
    const code = await this.proc.exited;
    clearTimeout(timer);
    if (this.proc.signalCode === "SIGKILL") throw new Error(`${this.label} did not stop within ${ms} ms`);
    return code;
  }

  /** SIGKILL by PID (cleanup). */
  async kill(): Promise<void> {
    if (this.alive) this.proc.kill("SIGKILL");
    await this.proc.exited;
  }

  private describeExit(): string {
    const tail = [...this.other.slice(-10), ...this.lines.slice(-5).map((l) => JSON.stringify(l))];
    return `code ${this.proc.exitCode}, signal ${this.proc.signalCode}\n${tail.join("\n")}`;
  }

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let partial = "";
    const reader = stream.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      const parts = (partial + decoder.decode(r.value, { stream: true })).split("\n");
      partial = parts.pop() ?? "";
      for (const text of parts) this.take(text);
    }
    if (partial) this.take(partial);
  }

  private take(text: string): void {
    if (!text.trim()) return;
    let line: LogLine | null = null;
    try {
      const parsed = JSON.parse(text) as LogLine;
      if (typeof parsed?.msg === "string") line = parsed;
    } catch {
      // not a log line
    }
    if (!line) {
      this.other.push(text);
      console.log(`[${this.label}] ${text}`);
      return;
    }
    this.lines.push(line);
    // Errors are worth seeing as they happen; warnings are counted at the end.
    if (line.level === "error" || line.level === "fatal") {
      const { time: _t, level, msg, service: _s, pid: _p, hostname: _h, ...rest } = line;
      console.log(`[${this.label}] ${level}: ${msg} ${JSON.stringify(rest)}`);
    }
  }
}

/** Starts `bun <entry>` (a path from the repository root) with exactly `env` (plus PATH). */
export function spawnBun(label: string, entry: string, env: Record<string, string>): Proc {
  const proc = Bun.spawn([process.execPath, join(repo, entry)], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  return new Proc(label, proc);
}

/** A service instance: its process, its own HTTP URL and its ADR-32 instance id. */
export type ServiceProc = { name: string; proc: Proc; url: string; instance: string };

/**
 * Starts `services/<name>/main.ts` and waits for its "service ready" line.
 *
 * @example
 * const runs = await startServiceProc("runs", "runs-1", { NATS_URL: nats.url, DATA_DIR: dir });
 */
export async function startServiceProc(
  name: string,
  label: string,
  env: Record<string, string>,
  readyMs = 45_000,
): Promise<ServiceProc> {
  const proc = spawnBun(label, `services/${name}/main.ts`, { LOG_LEVEL: "info", ...env });
  const ready = await proc.waitForLine((l) => l.msg === "service ready", readyMs, "service ready");
  return { name, proc, url: String(ready.url), instance: String(ready.instance) };
}

/** An edge process (supervisor and its workers) and its URL. */
export type EdgeProc = { proc: Proc; url: string; port: number };

/**
 * Starts `edge/main.ts` on `port` and waits until it listens.
 *
 * @example
 * const edge = await startEdgeProc("edge", port, { NATS_URL: nats.url, EDGE_WORKERS: "1" });
 */
export async function startEdgeProc(
  label: string,
  port: number,
  env: Record<string, string>,
  readyMs = 45_000,
): Promise<EdgeProc> {
  const proc = spawnBun(label, "edge/main.ts", {
    LOG_LEVEL: "info",
    EDGE_HOST: "127.0.0.1",
    EDGE_PORT: String(port),
    ...env,
  });
  await proc.waitForLine((l) => l.msg.startsWith("edge listening on"), readyMs, "edge listening");
  return { proc, url: `http://127.0.0.1:${port}`, port };
}

/** The instance ids the edge at `edgeUrl` routes to, by service (from `GET /_/routes`). */
export async function routedInstances(edgeUrl: string): Promise<Map<string, string[]>> {
  const res = await fetch(`${edgeUrl}/_/routes`, { signal: AbortSignal.timeout(2000) });
  const { routes } = (await res.json()) as { routes: { service: string; instances: { id: string }[] }[] };
  return new Map(routes.map((r) => [r.service, r.instances.map((i) => i.id)]));
}

/** One sample of a Prometheus text scrape, summed over every series matching `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** Mean, 99th percentile and maximum of some durations (ms), rounded. */
export function latencies(ms: number[]): { mean: number; p99: number; max: number } {
  if (ms.length === 0) return { mean: 0, p99: 0, max: 0 };
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    mean: Math.round(ms.reduce((a, b) => a + b, 0) / ms.length),
    p99: Math.round(at(0.99)),
    max: Math.round(sorted[sorted.length - 1] ?? 0),
  };
}

/** What an edge process retried, refused to retry and served stale, by reason (its `/metrics`). */
export async function edgeRetryFigures(edgeUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${edgeUrl}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
  const figures: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^edge_(retries_total|retries_denied_total|cache_stale_served_total)\{([^}]*)\} (\S+)$/.exec(
      line,
    );
    if (!m || Number(m[3]) === 0) continue;
    const reason = /reason="([^"]*)"/.exec(m[2] ?? "")?.[1];
    const key = `${m[1]}${reason ? `:${reason}` : ""}`;
    figures[key] = (figures[key] ?? 0) + Number(m[3]);
  }
  return figures;
}

/** Adds figures up, key by key. */
export function addFigures(
  into: Record<string, number>,
  more: Record<string, number>,
): Record<string, number> {
  for (const [k, v] of Object.entries(more)) into[k] = (into[k] ?? 0) + v;
  return into;
}
