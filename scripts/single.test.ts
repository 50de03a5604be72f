/**
 * Integration test of the one-process launcher (`bun scripts/single.ts`):
 * the real services, each in a Worker of one Bun process, a real
 * nats-server and SQLite files, on free ports with a temporary data dir.
 * It passes the same end-to-end checks as the multi-process stack
 * (scripts/e2e-checks.ts); a worker that dies is restarted while the others
 * keep serving; SIGTERM stops everything.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { checkEdgeServes, checkRunnerJourney } from "./e2e-checks.ts";
import { commandOf, descendants, isAlive, type Launched, launch, pollStatus } from "./launcher-testing.ts";

const readyMs = 60_000;
const single = { bunFlags: ["--max-http-header-size=65536"], readyMs };
const services = ["accounts", "plans", "runs", "stats"];
const tagged = (name: string, rest: string) => new RegExp(`^\\[${name}\\]\\s+${rest}`);

describe("one-process launcher", () => {
  let stack: Launched;

  beforeAll(async () => {
    stack = await launch("scripts/single.ts", single);
  }, readyMs + 5_000);

  afterAll(async () => {
    await stack?.cleanUp();
  });

  test("runs every service and the edge in workers of one process; only nats-server apart", () => {
    for (const name of [...services, "edge"]) {
      expect(stack.output.all(tagged(name, "› started \\(thread \\d+\\)"))).toHaveLength(1);
    }
    const children = descendants(stack.proc.pid);
    expect(children.map(commandOf)).toEqual([expect.stringContaining("nats-server")]);
  });

  test("serves the services through the edge", async () => {
    await checkEdgeServes(stack.edge);
  });

  test("a runner's journey across every service", async () => {
    await checkRunnerJourney(stack.edge);
  }, 40_000);

  test("SIGTERM stops every worker gracefully, then nats-server, and exits 0", async () => {
    const [nats] = descendants(stack.proc.pid);
    expect(nats && isAlive(nats)).toBe(true);
    const from = stack.output.lines.length;

    stack.proc.kill("SIGTERM");
    const code = await Promise.race([stack.proc.exited, Bun.sleep(25_000).then(() => "timeout")]);
    expect(code).toBe(0);
    expect(isAlive(nats!)).toBe(false);
    for (const name of services) {
      // The service's own graceful stop (announced, drained, store closed), then its worker's end.
      expect(stack.output.all(tagged(name, "info\\s+service stopped"), from)).toHaveLength(1);
      expect(stack.output.all(tagged(name, "› stopped$"), from)).toHaveLength(1);
    }
    expect(stack.output.all(tagged("edge", "info\\s+edge stopped"), from)).toHaveLength(1);
    expect(stack.output.all(/terminating the worker|worker crashed/, from)).toEqual([]);
  }, 30_000);
});

describe("one-process launcher with a crashing service", () => {
  let stack: Launched;

  beforeAll(async () => {
    stack = await launch("scripts/single.ts", {
      ...single,
      env: { RUNNERLY_SERVICES_DIR: resolve(import.meta.dir, "single", "fixture", "services") },
    });
  }, readyMs + 5_000);

  afterAll(async () => {
    await stack?.cleanUp();
  });

  test("a crashed worker is restarted while the other workers keep serving", async () => {
    // Requests to the other service, one after another, for as long as the crashes go on.
    const load = { ok: 0, failures: [] as string[], done: false };
    const steady = (async () => {
      while (!load.done) {
        const res = await fetch(`${stack.edge}/api/steady/ping`, {
          signal: AbortSignal.timeout(5_000),
        }).catch((err: unknown) => String(err));
        if (typeof res === "string") load.failures.push(res);
        else if (res.status === 200) load.ok++;
        else load.failures.push(`HTTP ${res.status}: ${await res.text()}`);
        if (typeof res !== "string") await res.body?.cancel().catch(() => {});
      }
    })();

    const crashes = [
      { path: "crash", reason: /^uncaught Error: boom in crashy$/ },
      { path: "reject", reason: /^unhandled rejection Error: rejected in crashy$/ },
      { path: "exit", reason: /^exited with code 1$/ },
    ];
    for (const crash of crashes) {
      const from = stack.output.lines.length;
      const okBefore = load.ok;
      const res = await fetch(`${stack.edge}/api/crashy/${crash.path}`, { method: "POST" });
      expect(res.status).toBe(202);

      const logged = await stack.output.waitFor(
        tagged("crashy", "› worker crashed \\((.+)\\); restarting in [\\d.]+ s$"),
        10_000,
        from,
      );
      expect(logged[1]).toMatch(crash.reason);
      await stack.output.waitFor(tagged("crashy", "› started \\(thread \\d+\\)"), 15_000, from);
      await pollStatus(`${stack.edge}/api/crashy/ping`, (s) => s === 200, 15_000);
      // The other service answered while this one was down and coming back.
      expect(load.ok).toBeGreaterThan(okBefore);
    }
    load.done = true;
    await steady;

    expect(load.failures).toEqual([]);
    expect(stack.proc.exitCode).toBeNull();
    expect(stack.output.all(/^\[(steady|edge)\]\s+› (worker crashed|started)/)).toEqual([
      expect.stringMatching(tagged("steady", "› started")),
      expect.stringMatching(tagged("edge", "› started")),
    ]);
  }, 60_000);
});
