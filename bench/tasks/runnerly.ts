/**
 * The Runnerly row of "Tasks through the broker": a nats-server with
 * JetStream (file storage), the `bench-worker` service in one process and
 * the `bench-requester` service in another, each on its own SQLite file in
 * the bench's work directory; the requester times submit (in a write
 * transaction) → worked → callback committed.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Empty } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { withAllocatorDefaults } from "@runnerly/kit/runtime";
import { NatsServer, waitFor } from "@runnerly/kit/testing";
import type { BenchContext } from "../lib/context.ts";
import { pinToServerCores, serverPrefix } from "../lib/pin.ts";
import { spawnServer, stopServer } from "../lib/procs.ts";
import type { TaskSetup } from "./bullmq.ts";
import { type Driver, spawnDriver } from "./driver.ts";

/**
 * Starts the JetStream server, the worker service (waits until it answers
 * PING: its task stream is provisioned by then) and the requester.
 *
 * @example
 * const kit = await startRunnerlyTasks(ctx);
 * await kit.driver.run(3, 64); await kit.stop();
 */
export async function startRunnerlyTasks(
  ctx: BenchContext,
  options: { profileDir?: string; statementsDir?: string } = {},
): Promise<TaskSetup> {
  const prefix = serverPrefix(ctx.pin);
  // With a profile directory, both services run under Bun's CPU profiler (written when they exit);
  // with a statements directory, every SQLite statement they run is timed (bench/lib/sql-timing.ts).
  const bun = (name: string) => [
    ctx.bun,
    ...(options.profileDir
      ? ["--cpu-prof", `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=${name}.cpuprofile`]
      : []),
    ...(options.statementsDir ? ["--preload", join(ctx.root, "bench/lib/sql-timing.ts")] : []),
  ];
  const dataDir = join(ctx.workDir, "tasks");
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const nats = await NatsServer.start();
  pinToServerCores(ctx.pin, nats.pid!);
  // The kit's services start as its launchers start them: with the kit's allocator setting.
  const env = (name: string) => ({
    ...withAllocatorDefaults(process.env),
    NATS_URL: nats.url,
    DATA_DIR: join(dataDir, name),
    LOG_LEVEL: "warn",
    PORT: "0",
    DATABASE_URL: undefined,
    SQL_TIMING_FILE: options.statementsDir ? statementsFile(options.statementsDir, name) : undefined,
  });
  const worker = spawnServer(
    "runnerly-worker",
    [...prefix, ...bun("runnerly-worker"), "bench/tasks/runnerly-worker.ts"],
    {
      env: env("worker"),
      logDir: ctx.logDir,
      cwd: ctx.root,
    },
  );
  let driver: Driver;
  try {
    await registered(nats.url, "bench-worker", worker.log);
    driver = await spawnDriver(
      "runnerly-requester",
      [...prefix, ...bun("runnerly-requester"), "bench/tasks/runnerly-requester.ts"],
      {
        env: env("requester"),
        logDir: ctx.logDir,
        cwd: ctx.root,
      },
    );
  } catch (err) {
    await stopServer(worker);
    await nats.stop();
    throw err;
  }
  return {
    driver,
    cpuGroups: () => ({ submitter: [driver.pid], worker: [worker.pid], broker: [nats.pid!] }),
    async stop() {
      await driver.stop();
      await stopServer(worker);
      await nats.stop();
    },
  };
}

/** Where a timed service of the tasks row writes its statements' figures (bench/lib/sql-timing.ts). */
export function statementsFile(dir: string, service: string): string {
  return join(dir, `runnerly-${service}.sql.json`);
}

/** Waits until an instance of `service` answers `$SRV.PING.<service>`. */
async function registered(url: string, service: string, log: string): Promise<void> {
  const nc = await connect({ servers: url, name: "bench-tasks-runner" });
  try {
    await waitFor(
      () =>
        nc.request(`$SRV.PING.${service}`, Empty, { timeout: 500 }).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 30_000, what: `${service} registered (log ${log})` },
    );
  } finally {
    await nc.close();
  }
}
