/**
 * `bun bench/run.ts --profile`: where the edge path spends its CPU. The edge
 * worker (started alone, as `bun --cpu-prof edge/adapters/bun/worker.ts`) and then the
 * bench service run under Bun's CPU profiler while wrk drives the no-DB route.
 *
 * The profiled process gets the server core to itself and everything else
 * (nats-server, the other process, wrk) goes to the load core: Bun's sampler
 * records where a thread is whenever it is not idle, so on a shared core a
 * process preempted by its peers would be "sampled" in the system call that
 * woke them (a socket write), not where it spends CPU.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "@runnerly/kit/testing";
import type { BenchContext } from "./lib/context.ts";
import { wrkDriver } from "./lib/drivers.ts";
import { measure } from "./lib/measure.ts";
import { pinToLoadCores } from "./lib/pin.ts";
import { type Child, spawnServer, stopServers } from "./lib/procs.ts";
import { EDGE_BENCH_ENV, waitForHttp, waitForInstances } from "./lib/stacks.ts";
import { formatSummary, summariseProfile } from "./profile-summary.ts";

type Target = "edge-worker" | "service";

/** Profiles the edge worker, then the service; prints and saves both summaries. */
export async function runProfile(ctx: BenchContext): Promise<void> {
  const dir = join(ctx.workDir, "profiles");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const { pin } = ctx;
  // nats-server is one of "the others" here: move it off the profiled core.
  pinToLoadCores(pin, ctx.natsPid);
  const texts: string[] = [];
  for (const target of ["edge-worker", "service"] as const) {
    await profileOne(ctx, dir, target);
    const path = join(dir, `${target}.cpuprofile`);
    const summary = summariseProfile(JSON.parse(await Bun.file(path).text()), ctx.root);
    texts.push(`== ${target} (${path})\n${formatSummary(summary, 25)}`);
    console.log(`\n${texts.at(-1)}\n`);
  }
  await Bun.write(join(dir, "summary.txt"), `${texts.join("\n\n")}\n`);
  ctx.progress.step(`profile: summaries in ${join(dir, "summary.txt")}`);
}

async function profileOne(ctx: BenchContext, dir: string, target: Target): Promise<void> {
  const { pin } = ctx;
  const cpus = (t: Target) =>
    pin.pinned ? ["taskset", "-c", t === target ? pin.serverCpus : pin.loadCpus] : [];
  const profiler = (t: Target) =>
    t === target ? ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${t}.cpuprofile`] : [];
  const start = (t: Target, script: string, env: Record<string, string>): Child =>
    spawnServer(`profile-${target}-${t}`, [...cpus(t), ctx.bun, ...profiler(t), script], {
      env: { ...process.env, NATS_URL: ctx.natsUrl, LOG_LEVEL: "info", ...env },
      logDir: ctx.logDir,
      cwd: ctx.root,
    });
  ctx.progress.step(
    `profile: ${target} under bun --cpu-prof, alone on CPU ${pin.serverCpus || "(unpinned)"}`,
  );
  const service = start("service", "bench/service/main.ts", { DATABASE_URL: `file:${ctx.serviceDb}` });
  await waitForInstances(ctx, service, 1);
  const port = await freePort();
  const edge = start("edge-worker", "edge/adapters/bun/worker.ts", {
    EDGE_HOST: "127.0.0.1",
    EDGE_PORT: String(port),
    ...EDGE_BENCH_ENV,
  });
  const url = `http://127.0.0.1:${port}/api/bench/hello`;
  await waitForHttp(url, edge);
  // The profile should hold load, not waits: wait for quiet once, then run straight through.
  await ctx.quiet.wait((line) => ctx.progress.step(`profile: ${line}`));
  try {
    await measure(
      {
        ...ctx,
        quiet: { wait: async () => true, waitedSeconds: () => 0 },
        options: { ...ctx.options, filter: null },
      },
      {
        id: `profile-${target}`,
        label: `profiled ${target}: edge worker → service, no DB`,
        setup: `${target} alone on the server core`,
        cpuGroups: () => ({ edge: [edge.pid], service: [service.pid] }),
        drive: wrkDriver(ctx, url),
      },
    );
  } finally {
    // SIGTERM: both stop gracefully, and Bun writes the profile on exit.
    await stopServers([edge, service]);
  }
}
