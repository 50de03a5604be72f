/** The report writer keeps what is written by hand around the generated block; the tasks table's rows; the ratios' paired note. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emptyResults } from "../suite/results.ts";
import { TASK_ROWS } from "../tasks/work.ts";
import { BEGIN, END, ratiosSection, tasksTable, writeReport } from "./markdown.ts";
import type { ScenarioResult } from "./measure.ts";

const dir = mkdtempSync(join(tmpdir(), "bench-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("creates the file with a title and the block", () => {
  const path = join(dir, "new.md");
  writeReport(path, "first");
  const text = readFileSync(path, "utf8");
  expect(text.startsWith("# Benchmarks")).toBe(true);
  expect(text).toContain(`${BEGIN}\nfirst\n${END}`);
});

test("replaces only the generated block", () => {
  const path = join(dir, "kept.md");
  writeFileSync(
    path,
    `# Title\n\nintro by hand\n\n${BEGIN}\nold figures\n${END}\n\n## What we learnt\n\nanalysis\n`,
  );
  writeReport(path, "new figures");
  expect(readFileSync(path, "utf8")).toBe(
    `# Title\n\nintro by hand\n\n${BEGIN}\nnew figures\n${END}\n\n## What we learnt\n\nanalysis\n`,
  );
});

function taskRow(id: string, rps: number, cpu: Record<string, number>): ScenarioResult {
  return {
    id,
    label: id,
    setup: "s",
    runs: [],
    rps,
    p50: 10,
    p99: 40,
    errors: 0,
    cpuUsPerRequest: cpu,
    systemUsPerRequest: {},
    loadUsPerRequest: 0,
    foreignCores: 0,
  };
}

test("the tasks table gives each row its rate as a multiple of BullMQ's and its CPU per process", () => {
  const lines = tasksTable([
    taskRow(TASK_ROWS.runnerly, 1500, { submitter: 300, worker: 200, broker: 100 }),
    taskRow(TASK_ROWS.bullmq, 3000, { submitter: 100, worker: 150, broker: 50 }),
    taskRow("peer-hello", 9000, {}),
  ]);
  expect(lines[0]).toBe("### Tasks through the broker");
  const rows = lines.filter(
    (l) => l.startsWith(`| ${TASK_ROWS.runnerly} `) || l.startsWith(`| ${TASK_ROWS.bullmq} `),
  );
  expect(rows).toHaveLength(2);
  expect(rows[0]).toContain("| **1,500** |");
  expect(rows[0]).toContain("**600** = submitter 300, worker 200, broker 100");
  expect(rows[0]).toContain("| 0.50× |");
  expect(rows[1]).toContain("| 1.00× |");
  expect(lines.some((l) => l.includes("peer-hello"))).toBe(false);
});

test("the tasks table says what the kit adds to the JetStream ceiling, per process, when both rows ran", () => {
  const both = tasksTable([
    taskRow(TASK_ROWS.runnerly, 1500, { submitter: 300, worker: 200, broker: 100 }),
    taskRow(TASK_ROWS.jetstream, 3000, { submitter: 100, worker: 250, broker: 60 }),
  ]).join("\n");
  expect(both).toContain("**190 µs of CPU per task** (submitter +200, worker −50, broker +40)");
  expect(both).toContain("at 0.50× the ceiling's rate");
  const kitOnly = tasksTable([taskRow(TASK_ROWS.runnerly, 1500, { submitter: 300 })]).join("\n");
  expect(kitOnly).not.toContain("What the kit adds");
});

test("no tasks table when no tasks row ran, and no ratio without the BullMQ row", () => {
  expect(tasksTable([taskRow("peer-hello", 9000, {})])).toEqual([]);
  const alone = tasksTable([taskRow(TASK_ROWS.runnerly, 1500, {})]).join("\n");
  expect(alone).toContain("| – | 0 |");
});

test("the ratios say in one line how a paired ratio was measured, and only when one was", () => {
  const run = (rps: number) => ({
    rps,
    p50: 1,
    p99: 2,
    requests: rps,
    errors: 0,
    cpu: { seconds: 1, groups: {}, groupsSystem: {}, load: 0, foreign: 0 },
  });
  const side = (id: string, other: string | undefined, runs: number[]): ScenarioResult => ({
    ...taskRow(id, runs[0]!, {}),
    runs: runs.map(run),
    ...(other ? { pairedWith: other } : {}),
  });
  const paired = ratiosSection({
    ...emptyResults(),
    scenarios: [
      side("stack-public", "peer-hello", [3000, 2000]),
      side("peer-hello", "stack-public", [2000, 2000]),
    ],
  });
  expect(paired.filter((l) => l.includes("runs alternated"))).toHaveLength(1);
  const row = paired.find((l) => l.startsWith("| stack public GET ÷ Moleculer hello |"));
  expect(row).toContain("| 1.25× |");
  expect(row).toContain("(*paired*)");
  const unpaired = ratiosSection({
    ...emptyResults(),
    scenarios: [side("stack-public", undefined, [3000, 2000]), side("peer-hello", undefined, [2000, 2000])],
  });
  expect(unpaired.some((l) => l.includes("runs alternated") || l.includes("*paired*"))).toBe(false);
  expect(unpaired.find((l) => l.startsWith("| stack public GET ÷ Moleculer hello |"))).toContain("| 1.50× |");
});
