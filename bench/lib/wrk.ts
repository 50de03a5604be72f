/**
 * wrk: run it at fixed concurrency on the load core and parse what it prints
 * (`--latency` adds the percentile table we report p50 and p99 from).
 */

/** What one wrk run measured. Latencies in milliseconds. */
export type WrkResult = {
  requestsPerSec: number;
  requests: number;
  seconds: number;
  latencyMs: { avg: number; max: number; p50: number; p75: number; p90: number; p99: number };
  /**
   * Socket errors plus answers that are errors: wrk's own count ("Non-2xx or
   * 3xx responses") takes only statuses >= 400; a script of wrk-scripts.ts
   * counts every status outside 2xx and prints NOT_2XX_LINE, which wins.
   */
  errors: { connect: number; read: number; write: number; timeout: number; non2xx: number };
  /** Count by status of the answers outside 2xx (`503: 2, 504: 1`), when a script counted them; else "". */
  statusesNot2xx: string;
};

export class WrkParseError extends Error {
  constructor(what: string, output: string) {
    super(`wrk output has no ${what}:\n${output.slice(0, 2000)}`);
    this.name = "WrkParseError";
  }
}

/** What the status counter of wrk-scripts.ts prints when wrk is done. */
export const NOT_2XX_LINE = /^Responses not 2xx: (\d+) \((.*)\)$/m;

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Converts a wrk duration (`610.38us`, `1.10ms`, `2.00s`, `1.00m`) to milliseconds.
 *
 * @example
 * parseWrkDuration("610.38us"); // 0.61038
 */
export function parseWrkDuration(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk duration: ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/**
 * Parses the output of `wrk --latency`. Throws `WrkParseError` naming what is
 * missing, so a changed wrk version fails loudly instead of reporting zeros.
 *
 * @example
 * const r = parseWrk(stdout); r.requestsPerSec; r.latencyMs.p99;
 */
export function parseWrk(output: string): WrkResult {
  const need = (re: RegExp, what: string) => {
    const m = re.exec(output);
    if (!m) throw new WrkParseError(what, output);
    return m;
  };
  const pct = (p: string) =>
    parseWrkDuration(need(new RegExp(`^\\s*${p}%\\s+(\\S+)\\s*$`, "m"), `${p}% line`)[1]!);
  const stats = need(/^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+\s*$/m, "Latency stats line");
  const total = need(/^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),/m, "request count line");
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const counted = NOT_2XX_LINE.exec(output);
  const non2xx = counted ?? /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requestsPerSec: Number(need(/^Requests\/sec:\s+([\d.]+)/m, "Requests/sec line")[1]),
    requests: Number(total[1]),
    seconds: parseWrkDuration(`${total[2]}${total[3]}`) / 1000,
    latencyMs: {
      avg: parseWrkDuration(stats[1]!),
      max: parseWrkDuration(stats[3]!),
      p50: pct("50"),
      p75: pct("75"),
      p90: pct("90"),
      p99: pct("99"),
    },
    errors: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
      non2xx: Number(non2xx?.[1] ?? 0),
    },
    statusesNot2xx: counted?.[2] ?? "",
  };
}

/**
 * What the errors of a run were, in words (empty when there were none).
 *
 * @example
 * errorDetail(r); // "2 timeouts, 1 not 2xx (503: 1)"
 */
export function errorDetail(r: WrkResult): string {
  const { connect, read, write, timeout, non2xx } = r.errors;
  const parts = [
    connect ? `${connect} connect` : "",
    read ? `${read} read` : "",
    write ? `${write} write` : "",
    timeout ? `${timeout} timeouts` : "",
    non2xx ? `${non2xx} not 2xx${r.statusesNot2xx ? ` (${r.statusesNot2xx})` : ""}` : "",
  ];
  return parts.filter(Boolean).join(", ");
}

/** Total of every error wrk counted in a run. */
export function errorCount(r: WrkResult): number {
  const e = r.errors;
  return e.connect + e.read + e.write + e.timeout + e.non2xx;
}

/** The wrk binary: WRK_BIN (set by `npm run bench`) or the one on PATH. */
export function wrkBin(): string {
  return process.env.WRK_BIN ?? "wrk";
}

export type WrkOptions = {
  url: string;
  connections: number;
  seconds: number;
  /** A wrk Lua script (e.g. to vary the path per request). */
  script?: string;
  /** `taskset` prefix placing wrk on the load core (empty when not pinned). */
  pinPrefix: string[];
};

/**
 * Runs wrk once (one thread: it has one core) and returns the parsed result.
 *
 * @example
 * const r = await runWrk({ url, connections: 50, seconds: 6, pinPrefix: ["taskset", "-c", "1"] });
 */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const argv = [
    ...options.pinPrefix,
    wrkBin(),
    "-t1",
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    "--timeout",
    "5s",
    "--latency",
    ...(options.script ? ["-s", options.script] : []),
    options.url,
  ];
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${err || out}`);
  return parseWrk(out);
}
