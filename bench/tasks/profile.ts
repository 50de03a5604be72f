/**
 * Where the Runnerly tasks row spends its CPU: the requester and the worker
 * service run under Bun's CPU profiler while round trips are driven as in
 * the benchmark, then both profiles are summarised (self time by function
 * and package, inclusive time of the repository's own functions).
 *
 *   bun bench/tasks/profile.ts [seconds] [--statements]
 *
 * Seconds default to 10; profiles go to .data/bench/profiles/tasks. With
 * `--statements` the services run with every SQLite statement timed instead
 * of under the profiler (bench/lib/sql-timing.ts), and the summary is per
 * statement: calls, µs a call, µs per task.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BenchContext } from "../lib/context.ts";
import { detectPinning } from "../lib/pin.ts";
import { createProgress } from "../lib/progress.ts";
import { formatSqlTiming, readSqlTiming } from "../lib/sql-timing.ts";
import { formatSummary, summariseProfile } from "../profile-summary.ts";
import { startRunnerlyTasks, statementsFile } from "./runnerly.ts";
import { TASK_WINDOW } from "./work.ts";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
process.chdir(root);
const args = process.argv.slice(2);
const statements = args.includes("--statements");
const seconds = Number(args.find((a) => !a.startsWith("--")) ?? 10);
const workDir = join(root, ".data", "bench");
const logDir = join(workDir, "logs");
const dir = join(workDir, "profiles", "tasks");
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
mkdirSync(logDir, { recursive: true });
const progress = createProgress();
// Unpinned: the two profiled processes and nats-server spread over the machine's cores.
const pin = { ...detectPinning(), pinned: false };
const ctx = { root, bun: process.execPath, pin, workDir, logDir, progress } as unknown as BenchContext;

progress.step(
  statements
    ? "tasks profile: nats-server, bench-worker and bench-requester with their SQLite statements timed"
    : "tasks profile: nats-server, bench-worker and bench-requester under bun --cpu-prof",
);
const setup = await startRunnerlyTasks(ctx, statements ? { statementsDir: dir } : { profileDir: dir });
let tasks = 0;
try {
  const warm = await setup.driver.run(1, TASK_WINDOW);
  const run = await setup.driver.run(seconds, TASK_WINDOW);
  // The statements' figures cover the warm-up too.
  tasks = warm.tasks + run.tasks;
  progress.step(
    `tasks profile: ${Math.round(run.rps)} tasks/s, p50 ${run.p50.toFixed(1)} ms, p99 ${run.p99.toFixed(1)} ms, ${run.errors} errors`,
  );
} finally {
  await setup.stop();
}
if (statements) {
  for (const name of ["requester", "worker"]) {
    const path = statementsFile(dir, name);
    const lines = formatSqlTiming(readSqlTiming(path), { units: tasks, unit: "task" });
    console.log(
      `\n== runnerly-${name}, SQLite statements over ${tasks} tasks (${path})\n${lines.join("\n")}`,
    );
  }
  process.exit(0);
}
for (const name of ["runnerly-requester", "runnerly-worker"]) {
  const path = join(dir, `${name}.cpuprofile`);
  const summary = summariseProfile(JSON.parse(await Bun.file(path).text()), root);
  console.log(`\n== ${name} (${path})\n${formatSummary(summary, 30)}\n`);
}
