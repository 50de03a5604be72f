/**
 * `npm run dev` and `npm run start:single` stop the whole stack when the npm
 * process itself gets SIGINT or SIGTERM (what a process manager, an IDE's stop
 * button or `kill <pid of npm>` sends, as opposed to Ctrl-C, which reaches the
 * whole process group). npm passes the signal to its script's shell only, and
 * `sh -c` keeps it to itself; the scripts `exec` the bootstrap, so the shell
 * becomes the bootstrap, which passes the signal on to the launcher.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { waitFor } from "@runnerly/kit/testing";
import { commandOf, descendants, isAlive, type Launched, launch } from "../launcher-testing.ts";

const readyMs = 60_000;
const npm = Bun.which("npm");

describe("a stack started through npm", () => {
  let stack: Launched | undefined;
  /** What npm started: when a test fails, some of it may no longer descend from npm (an orphan). */
  let started: number[] = [];

  afterEach(async () => {
    for (const pid of started.filter(isAlive)) process.kill(pid, "SIGKILL");
    await stack?.cleanUp();
    stack = undefined;
    started = [];
  });

  test.each([
    ["dev", "SIGINT", ["services/runs/main.ts", "edge/main.ts"]],
    ["dev", "SIGTERM", ["services/runs/main.ts", "edge/main.ts"]],
    ["start:single", "SIGINT", ["scripts/single.ts"]],
    ["start:single", "SIGTERM", ["scripts/single.ts"]],
  ] as const)(
    "npm run %s: %s to the npm process stops everything it started",
    async (script, signal, members) => {
      if (!npm) throw new Error("npm is not on PATH");
      // One edge worker: the edge's pool is not what is tested, and two cores are shared.
      stack = await launch([npm, "run", script], { readyMs, env: { EDGE_WORKERS: "1" } });
      const { proc, output } = stack;
      // npm's script (the bootstrap), the launcher, nats-server and the members it runs.
      started = descendants(proc.pid);
      const commands = started.map(commandOf);
      for (const part of ["scripts/bootstrap.mjs", "nats-server", ...members])
        expect(commands).toContainEqual(expect.stringContaining(part));
      const from = output.lines.length;

      process.kill(proc.pid, signal);
      // The launcher's own orderly stop (members, then nats-server), not just its end.
      await output.waitFor(new RegExp(`^› ${signal} received; stopping…$`), 5_000, from);
      await output.waitFor(/^› stopped$/, 25_000, from);
      await waitFor(() => started.every((pid) => !isAlive(pid)), {
        timeoutMs: 5_000,
        what: `every process npm run ${script} started to end`,
      });
      expect(
        await Promise.race([proc.exited.then(() => "exited"), Bun.sleep(5_000).then(() => "running")]),
      ).toBe("exited");
    },
    readyMs + 40_000,
  );
});
