/**
 * `bun bench/run.ts --profile --stack`: where the shipped stack (`npm run dev`)
 * spends its CPU on the public GET and on the authenticated GET by id.
 *
 * The launcher gets BUN_OPTIONS="--cpu-prof --cpu-prof-dir=<dir>" and passes its
 * environment on, so every Bun process of the stack (the launcher, the four
 * services, the edge supervisor and its workers) runs under Bun's profiler and
 * writes `CPU.<date>.<time>.<pid>.<n>.cpuprofile` when it exits (Bun 1.4.5
 * reads BUN_OPTIONS as if its flags were on the command line). SIGTERM to the
 * launcher stops them all gracefully; the edge worker's and the runs service's
 * files are then picked by PID and summarised.
 *
 * Unlike `--profile` (one process alone on the server core), the stack runs as
 * its rows measure it, every process on the server core: a process preempted
 * by another may be sampled in the system call that woke that other one, so
 * read the socket writes' share with that in mind. Start-up and seeding are in
 * the profiles too; they are small next to the load.
 */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BenchContext } from "./lib/context.ts";
import { wrkDriver } from "./lib/drivers.ts";
import { measure } from "./lib/measure.ts";
import { startRealStack } from "./lib/real-stack.ts";
import { logIn } from "./lib/stack-client.ts";
import { requestScript } from "./lib/wrk-scripts.ts";
import { formatSummary, summariseProfile } from "./profile-summary.ts";
import { STACK_ROWS, seed } from "./suite/stack.ts";

/** The rows driven while the profiler runs. */
const PROFILED_ROWS = ["stack-public", "stack-run"];

/** Profiles the stack under load on two rows; prints and saves the edge worker's and the runs service's summaries. */
export async function runStackProfile(ctx: BenchContext): Promise<void> {
  const dir = join(ctx.workDir, "profiles-stack");
  if (/\s/.test(dir)) throw new Error(`BUN_OPTIONS is split at spaces: ${dir} cannot be the profile dir`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const { progress } = ctx;
  progress.step(`profile: the shipped stack with BUN_OPTIONS="--cpu-prof --cpu-prof-dir=${dir}"`);
  const stack = await startRealStack(ctx, {
    name: "stack-profile",
    env: { BUN_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` },
  });
  const targets = new Map<string, number>();
  try {
    const ids = await seed(stack);
    await ctx.quiet.wait((line) => progress.step(`profile: ${line}`));
    // The profile should hold load, not waits: no quiet checks between runs.
    const loadCtx = {
      ...ctx,
      quiet: { wait: async () => true, waitedSeconds: () => 0 },
      options: { ...ctx.options, filter: null },
    };
    for (const row of STACK_ROWS.filter((r) => PROFILED_ROWS.includes(r.id))) {
      const script = await requestScript(ctx, row.id, row.request(await logIn(stack.base), ids));
      await measure(loadCtx, {
        id: `profile-${row.id}`,
        label: `profiled ${row.label}`,
        setup: row.what,
        cpuGroups: stack.cpuGroups,
        drive: wrkDriver(ctx, stack.base, script),
      });
    }
    for (const pid of stack.edgeWorkerPids()) targets.set(`edge worker (pid ${pid})`, pid);
    targets.set(`runs service (pid ${stack.pid("runs")})`, stack.pid("runs"));
  } finally {
    progress.step("profile: stopping the stack; every Bun process writes its profile as it exits");
    await stack.stop();
  }
  const files = readdirSync(dir);
  const texts: string[] = [];
  for (const [name, pid] of targets) {
    const file = files.find((f) =>
      new RegExp(`^CPU\\.\\d+\\.\\d+\\.${pid}\\.\\d+\\.\\d+\\.cpuprofile$`).test(f),
    );
    if (!file) throw new Error(`no profile of the ${name} in ${dir} (found: ${files.join(", ") || "none"})`);
    const path = join(dir, file);
    const summary = summariseProfile(JSON.parse(await Bun.file(path).text()), ctx.root);
    texts.push(`== ${name}: ${PROFILED_ROWS.join(" then ")} (${path})\n${formatSummary(summary, 25)}`);
    console.log(`\n${texts.at(-1)}\n`);
  }
  await Bun.write(join(dir, "summary.txt"), `${texts.join("\n\n")}\n`);
  progress.step(`profile: summaries in ${join(dir, "summary.txt")}`);
}
