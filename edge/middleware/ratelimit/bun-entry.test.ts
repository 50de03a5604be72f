/**
 * The Bun entry end to end: `edge/main.ts` as processes on a real socket,
 * configured from the environment. The client address comes from Bun's
 * `server.requestIP` (here 127.0.0.1), so a forged X-Forwarded-For changes
 * nothing unless 127.0.0.1 is a trusted proxy; and the limit holds across
 * worker processes, which share it through NATS KV.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { freePort, NatsServer, waitFor } from "@runnerly/kit/testing";
import type { Subprocess } from "bun";
import { addHttpService, connect, respondText } from "../../test-utils.ts";

setDefaultTimeout(40_000);

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
let nats: NatsServer;
const procs: Subprocess[] = [];

beforeAll(async () => {
  nats = await NatsServer.start();
  const nc = await connect(nats.url, "hello-service");
  await addHttpService(nc, {
    name: "hello",
    prefix: "/api/hello",
    handler: (m) => respondText(m, 200, "hi"),
  });
});

afterAll(async () => {
  // SIGTERM: the supervisor stops its workers too (SIGKILL would leave them running).
  for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.exited));
  await nats?.stop();
});

/** Starts the edge with `env` and resolves with its base URL once it listens. */
async function spawnEdge(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const proc = Bun.spawn([process.execPath, MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      NATS_URL: nats.url,
      EDGE_PORT: String(port),
      EDGE_AUTH: "off",
      EDGE_RATE_LIMIT_BUCKET: `rl_${crypto.randomUUID().slice(0, 8)}`,
      ...env,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  procs.push(proc);
  let output = "";
  void (async () => {
    const decoder = new TextDecoder();
    const reader = proc.stdout.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      output += decoder.decode(r.value, { stream: true });
    }
  })();
  const base = `http://127.0.0.1:${port}`;
  await waitFor(() => output.includes(`edge listening on ${base}`), { timeoutMs: 15_000, what: "the edge" });
  // Ready after the first sweep, which finds the hello service; probes spend no quota.
  await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, { what: "the edge ready" });
  return base;
}

/** Status codes of sequential requests, each on a new connection (so the kernel spreads them over workers). */
async function statuses(base: string, forwardedFor: string[]): Promise<number[]> {
  const out = [];
  for (const xff of forwardedFor) {
    const res = await fetch(`${base}/api/hello/x`, { headers: { "x-forwarded-for": xff }, keepalive: false });
    await res.arrayBuffer();
    out.push(res.status);
  }
  return out;
}

describe("the Bun edge on a socket", () => {
  test("a forged X-Forwarded-For is ignored, and two workers share one limit", async () => {
    const base = await spawnEdge({ EDGE_WORKERS: "2", EDGE_RATE_LIMITS: "default=6/60s" });
    const forged = Array.from({ length: 7 }, (_, i) => `203.0.113.${i}`);
    expect(await statuses(base, forged)).toEqual([200, 200, 200, 200, 200, 200, 429]);
  });

  test("behind a trusted proxy (EDGE_TRUSTED_PROXIES=127.0.0.1) each forwarded client has its own limit", async () => {
    const base = await spawnEdge({
      EDGE_WORKERS: "1",
      EDGE_RATE_LIMITS: "default=2/60s",
      EDGE_TRUSTED_PROXIES: "127.0.0.1",
    });
    expect(await statuses(base, ["203.0.113.1", "203.0.113.1", "203.0.113.1"])).toEqual([200, 200, 429]);
    expect(await statuses(base, ["203.0.113.2", "6.6.6.6, 203.0.113.1"])).toEqual([200, 429]);
  });
});
