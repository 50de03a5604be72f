/**
 * Where the Runnerly tasks row spends its CPU: the requester and the worker
 * service run under Bun's CPU profiler while round trips are driven as in
 * the benchmark, then both profiles are summarised (self time by function
 * and package, inclusive time of the repository's own functions).
 *
 *   bun bench/tasks/profile.ts [seconds]   (default 10; profiles in .data/bench/profiles/tasks)
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BenchContext } from "../lib/context.ts";
import { detectPinning } from "../lib/pin.ts";
import { createProgress } from "../lib/progress.ts";
import { formatSummary, summariseProfile } from "../profile-summary.ts";
import { startRunnerlyTasks } from "./runnerly.ts";
import { TASK_WINDOW } from "./work.ts";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
process.chdir(root);
const seconds = Number(process.argv[2] ?? 10);
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

progress.step("tasks profile: nats-server, bench-worker and bench-requester under bun --cpu-prof");
const setup = await startRunnerlyTasks(ctx, { profileDir: dir });
try {
  await setup.driver.run(1, TASK_WINDOW);
  const run = await setup.driver.run(seconds, TASK_WINDOW);
  progress.step(
    `tasks profile: ${Math.round(run.rps)} tasks/s, p50 ${run.p50.toFixed(1)} ms, p99 ${run.p99.toFixed(1)} ms, ${run.errors} errors`,
  );
} finally {
  await setup.stop();
}
for (const name of ["runnerly-requester", "runnerly-worker"]) {
  const path = join(dir, `${name}.cpuprofile`);
  const summary = summariseProfile(JSON.parse(await Bun.file(path).text()), root);
  console.log(`\n== ${name} (${path})\n${formatSummary(summary, 30)}\n`);
}
