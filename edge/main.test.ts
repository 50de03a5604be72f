/**
 * The Bun entry as a process: it starts from the environment, serves HTTP on a
 * real socket, refuses a bad environment with every bad key named, and on
 * SIGTERM finishes the request in flight before exiting 0.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { freePort, type StartedScript, startScript } from "@runnerly/kit/testing";
import type { Subprocess } from "bun";
import { addHttpService, connect, respondText, waitFor } from "./test-utils.ts";
import { natsPerFile } from "./testdata/per-file.ts";

// Room for a loaded CI machine; every wait inside a test has its own, shorter bound.
setDefaultTimeout(15_000);

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const { server, cleanup } = natsPerFile();

function spawnEdge(env: Record<string, string>): StartedScript {
  // Routing to an anonymous foreign service: token checks off (edge/middleware/auth has its own tests).
  const edge = startScript([MAIN], {
    PATH: process.env.PATH ?? "",
    LOG_LEVEL: "info",
    EDGE_AUTH: "off",
    ...env,
  });
  cleanup.add(() => {
    if (edge.proc.exitCode === null) edge.proc.kill("SIGKILL");
    return edge.proc.exited;
  });
  return edge;
}

/** Resolves with the exit code, or fails after `ms` (the process is then killed by the cleanup). */
async function exitWithin(proc: Subprocess, ms: number): Promise<number> {
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no exit in ${ms} ms`)), ms),
  );
  return Promise.race([proc.exited, timeout]);
}

describe("bun edge/main.ts", () => {
  test("serves from the environment and, on SIGTERM, finishes the request in flight, then exits 0", async () => {
    const nc = await connect(server().url, "slow-service");
    cleanup.add(() => nc.close());
    let started = false;
    await addHttpService(nc, {
      name: "slowpoke",
      prefix: "/api/slowpoke",
      handler: (msg) => {
        started = true;
        setTimeout(() => respondText(msg, 200, "finished"), 400);
      },
    });

    const port = await freePort();
    const edge = spawnEdge({ NATS_URL: server().url, EDGE_PORT: String(port), EDGE_HOST: "127.0.0.1" });
    await waitFor(() => edge.output().includes(`edge listening on http://127.0.0.1:${port}`), {
      timeoutMs: 10_000,
      what: "the listening line",
    });
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await waitFor(async () => (await fetch(`${base}/_/routes`)).text().then((t) => t.includes("slowpoke")), {
      what: "slowpoke discovered",
    });

    const inFlight = fetch(`${base}/api/slowpoke/work`);
    await waitFor(() => started, { what: "the request to reach the service" });
    edge.proc.kill("SIGTERM");
    // It stops accepting at once, while the request in flight is still being served.
    await waitFor(
      () =>
        fetch(`${base}/healthz`, { keepalive: false }).then(
          () => false,
          () => true,
        ),
      {
        timeoutMs: 300,
        what: "new connections to be refused",
      },
    );
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("finished");
    expect(await exitWithin(edge.proc, 5000)).toBe(0);
    expect(edge.output()).toContain("edge stopped");
  });

  test("a bad environment stops start-up with one error naming every bad key", async () => {
    const edge = spawnEdge({ NATS_URL: "http://nope", EDGE_PORT: "70000", EDGE_TIMEOUT_MS: "soon" });
    expect(await exitWithin(edge.proc, 10_000)).toBe(1);
    const out = edge.output();
    for (const key of ["NATS_URL", "EDGE_PORT", "EDGE_TIMEOUT_MS"]) expect(out).toContain(key);
    expect(out).toContain("Invalid edge configuration");
  });
});
