/**
 * Integration test of the dev launcher (`bun scripts/dev.ts`): the real
 * nats-server, services and edge on free ports with a temporary data dir,
 * checked through the edge with the end-to-end checks both layouts pass
 * (scripts/e2e-checks.ts); then a service is killed and must come back, and
 * SIGTERM must stop everything.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { checkEdgeServes, checkRunnerJourney } from "./e2e-checks.ts";
import { descendants, isAlive, type Launched, launch, pollStatus } from "./launcher-testing.ts";

const readyMs = 60_000;

describe("dev launcher", () => {
  let stack: Launched;

  beforeAll(async () => {
    stack = await launch("scripts/dev.ts", { readyMs });
  }, readyMs + 5_000);

  afterAll(async () => {
    await stack?.cleanUp();
  });

  test("serves the services through the edge", async () => {
    await checkEdgeServes(stack.edge);
  });

  test("a runner's journey across every service", async () => {
    await checkRunnerJourney(stack.edge);
  }, 40_000);

  test("a killed service answers 503 at once and is restarted", async () => {
    const { output, edge } = stack;
    const starts = /^\[runs\]\s+› started \(pid (\d+)\)/;
    const runsPid = Number(output.last(starts)?.[1]);
    expect(isAlive(runsPid)).toBe(true);
    const linesBefore = output.lines.length;

    process.kill(runsPid, "SIGKILL");
    // Once the launcher has seen it exit, its NATS connection is closed: from then on the edge must fail fast.
    await output.waitFor(/^\[runs\]\s+› exited unexpectedly/, 5_000, linesBefore);
    const down = await pollStatus(`${edge}/api/runs/healthz`, (s) => s === 503, 1_000);
    expect(down.ms).toBeLessThan(1_000);

    const restartedPid = Number((await output.waitFor(starts, 15_000, linesBefore))[1]);
    expect(restartedPid).not.toBe(runsPid);
    await pollStatus(`${edge}/api/runs/healthz`, (s) => s === 200, 15_000);
  }, 35_000);

  test("SIGTERM stops every child and exits 0", async () => {
    const { proc } = stack;
    const pids = descendants(proc.pid);
    expect(pids.length).toBeGreaterThanOrEqual(3); // nats-server, runs, edge

    proc.kill("SIGTERM");
    const code = await Promise.race([proc.exited, Bun.sleep(25_000).then(() => "timeout")]);
    expect(code).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
  }, 30_000);
});
