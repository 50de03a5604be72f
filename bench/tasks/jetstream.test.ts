/** The tasks group's JetStream ceiling row: its two processes finish every round trip they start. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchContext } from "../lib/context.ts";
import { startJetStreamTasks } from "./jetstream.ts";

const dir = mkdtempSync(join(tmpdir(), "bench-jetstream-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the ceiling row's submitter gets every task it published back as a result from the worker", async () => {
  const ctx = {
    root: join(import.meta.dir, "../.."),
    bun: process.execPath,
    pin: { pinned: false },
    workDir: dir,
    logDir: dir,
  } as unknown as BenchContext;
  const setup = await startJetStreamTasks(ctx);
  try {
    const run = await setup.driver.run(0.3, 8);
    expect(run.errorDetail).toBeUndefined();
    expect(run.errors).toBe(0);
    expect(run.tasks).toBeGreaterThan(8);
    const groups = setup.cpuGroups();
    expect(Object.keys(groups)).toEqual(["submitter", "worker", "broker"]);
  } finally {
    await setup.stop();
  }
}, 60_000);
