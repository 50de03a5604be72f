import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatSqlTiming, readSqlTiming, type StatementTiming } from "./sql-timing.ts";

const dir = mkdtempSync(join(tmpdir(), "sql-timing-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sql-timing", () => {
  test("a process preloaded with it writes each statement's calls at exit, by SQL text and call", async () => {
    const out = join(dir, "timing.json");
    const script = join(dir, "work.ts");
    // The preload patches bun:sqlite for the whole process: a child process of its own, as the bench runs it.
    writeFileSync(
      script,
      [
        'import { Database } from "bun:sqlite";',
        'const db = new Database(":memory:");',
        'db.run("CREATE TABLE t (v INTEGER)");',
        'const insert = db.prepare("INSERT INTO t VALUES (?)");',
        "for (let i = 0; i < 25; i++) insert.run(i);",
        // `query` returns its cached statement for the same SQL: each call still counts once.
        'db.query("SELECT count(*) AS n FROM t").get();',
        'const n = db.query("SELECT count(*) AS n FROM t").get();',
        "console.log(JSON.stringify(n));",
      ].join("\n"),
    );
    const proc = Bun.spawn([process.execPath, "--preload", join(import.meta.dir, "sql-timing.ts"), script], {
      env: { ...process.env, SQL_TIMING_FILE: out },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(0);
    expect(JSON.parse(await new Response(proc.stdout).text())).toEqual({ n: 25 });
    const timings = readSqlTiming(out);
    const byKey = new Map(timings.map((t) => [`${t.call} ${t.sql}`, t]));
    expect(byKey.get("run INSERT INTO t VALUES (?)")?.calls).toBe(25);
    expect(byKey.get("get SELECT count(*) AS n FROM t")?.calls).toBe(2);
    expect(byKey.get("db.run CREATE TABLE t (v INTEGER)")?.calls).toBe(1);
    for (const t of timings) expect(t.ms).toBeGreaterThanOrEqual(0);
  });

  test("the summary puts the costliest statements first, with µs a call and per unit", () => {
    const timings: StatementTiming[] = [
      { call: "run", sql: "INSERT INTO t VALUES (?)", calls: 1000, ms: 5 },
      { call: "run", sql: "COMMIT", calls: 100, ms: 8 },
    ];
    const lines = formatSqlTiming(timings, { units: 1000, unit: "task" });
    expect(lines[0]).toBe("13 ms in SQLite in all   13.0 µs/task");
    expect(lines[1]).toContain("COMMIT");
    expect(lines[1]).toContain("80.0 µs");
    expect(lines[1]).toContain("8.0 µs/task");
    expect(lines[2]).toContain("INSERT INTO t VALUES (?)");
    expect(lines[2]).toContain("5.0 µs");
  });

  test("a process that wrote nothing reads as no statements", () => {
    expect(readSqlTiming(join(dir, "missing.json"))).toEqual([]);
  });
});
