/**
 * Where a process's SQLite time goes, statement by statement: the CPU
 * profiler shows bun:sqlite's native `run` and `values` as two lumps, this
 * splits them by SQL text (the kit's BEGIN, SAVEPOINT and COMMIT included).
 *
 * Loaded into a Bun process with `--preload bench/lib/sql-timing.ts` and
 * `SQL_TIMING_FILE=<path>` in its environment, it times every `run`, `all`,
 * `get` and `values` of every statement that process prepares, and writes
 * what it measured to that file once a second and when the process exits.
 *
 *   bun bench/tasks/profile.ts 8 --statements   (both task services timed, then summarised)
 */
import { Database, type Statement } from "bun:sqlite";
import { readFileSync, writeFileSync } from "node:fs";

/** One statement's figures: how it was called, its SQL, how often and for how long in all. */
export type StatementTiming = { call: string; sql: string; calls: number; ms: number };

const METHODS = ["run", "all", "get", "values"] as const;

/**
 * Wraps bun:sqlite so that every statement run from now on is timed, and
 * writes the figures to `file` every `everyMs` and at exit.
 *
 * @example
 * installSqlTiming("/tmp/requester.json");
 */
export function installSqlTiming(file: string, everyMs = 1000): void {
  const timings = new Map<string, StatementTiming>();
  const time = <T>(call: string, sql: string, fn: () => T): T => {
    const started = performance.now();
    try {
      return fn();
    } finally {
      const key = `${call}\u0000${sql}`;
      let t = timings.get(key);
      if (!t) {
        t = { call, sql, calls: 0, ms: 0 };
        timings.set(key, t);
      }
      t.calls++;
      t.ms += performance.now() - started;
    }
  };
  // `query` hands out its cached statement again for the same SQL: wrapped once.
  const wrapped = new WeakSet<Statement>();
  const wrap = (statement: Statement, sql: string): Statement => {
    if (wrapped.has(statement)) return statement;
    wrapped.add(statement);
    for (const method of METHODS) {
      const original = statement[method] as (...args: unknown[]) => unknown;
      (statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
        time(method, sql, () => original.apply(statement, args));
    }
    return statement;
  };
  const proto = Database.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ["prepare", "query"]) {
    const original = proto[name] as (...args: unknown[]) => unknown;
    proto[name] = function (this: Database, sql: unknown, ...rest: unknown[]) {
      return wrap(original.call(this, sql, ...rest) as Statement, String(sql));
    };
  }
  const run = proto.run as (...args: unknown[]) => unknown;
  proto.run = function (this: Database, sql: unknown, ...rest: unknown[]) {
    return time("db.run", String(sql), () => run.call(this, sql, ...rest));
  };
  const write = () => writeFileSync(file, JSON.stringify([...timings.values()]));
  setInterval(write, everyMs).unref();
  process.on("exit", write);
}

/** The figures a timed process wrote (an empty list if it wrote none). */
export function readSqlTiming(file: string): StatementTiming[] {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as StatementTiming[];
  } catch {
    return [];
  }
}

/**
 * The statements that took longest, one line each: calls, ms in all, µs a
 * call and µs per `unit` (a task, a request) when `units` is given.
 *
 * @example
 * console.log(formatSqlTiming(readSqlTiming(file), { units: 30_000, unit: "task" }).join("\n"));
 */
export function formatSqlTiming(
  timings: StatementTiming[],
  options: { top?: number; units?: number; unit?: string } = {},
): string[] {
  const rows = [...timings].sort((a, b) => b.ms - a.ms).slice(0, options.top ?? 15);
  const totalMs = timings.reduce((sum, t) => sum + t.ms, 0);
  const per = (ms: number) =>
    options.units
      ? `${((ms * 1000) / options.units).toFixed(1).padStart(6)} µs/${options.unit ?? "unit"}`
      : "";
  const lines = [`${totalMs.toFixed(0)} ms in SQLite in all ${per(totalMs)}`.trimEnd()];
  for (const t of rows) {
    const sql = t.sql.replace(/\s+/g, " ").trim().slice(0, 90);
    lines.push(
      `${String(t.calls).padStart(8)} × ${((t.ms * 1000) / t.calls).toFixed(1).padStart(7)} µs  ${per(t.ms)}  ${t.call} ${sql}`,
    );
  }
  return lines;
}

const file = process.env.SQL_TIMING_FILE;
if (file) installSqlTiming(file);
