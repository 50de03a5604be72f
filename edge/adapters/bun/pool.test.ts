/**
 * The worker pool as processes: workers share one port, a worker killed under
 * load is replaced within 1 s while the others keep answering (only requests
 * in flight on the dead one may fail), and SIGTERM drains them all.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { freePort, NatsServer, waitFor } from "@runnerly/kit/testing";
import type { Subprocess } from "bun";
import { addHttpService, connect, respondText } from "../../test-utils.ts";

setDefaultTimeout(40_000);

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
let nats: NatsServer;
let edge: Subprocess<"ignore", "pipe", "inherit">;
const lines: Record<string, unknown>[] = [];

const logged = (msg: string) => lines.filter((l) => l.msg === msg);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: false });
  const nc = await connect(nats.url, "pool-service");
  await addHttpService(nc, {
    name: "hello",
    prefix: "/api/hello",
    handler: (msg) => respondText(msg, 200, "hi"),
  });
  const port = await freePort();
  edge = Bun.spawn([process.execPath, MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      NATS_URL: nats.url,
      EDGE_PORT: String(port),
      EDGE_WORKERS: "2",
      EDGE_AUTH: "off",
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  void (async function collect() {
    const decoder = new TextDecoder();
    let buffer = "";
    const reader = edge.stdout.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      const chunk = r.value;
      buffer += decoder.decode(chunk, { stream: true });
      let nl = buffer.indexOf("\n");
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          lines.push(JSON.parse(line));
        } catch {
          // not a log line
        }
        nl = buffer.indexOf("\n");
      }
    }
  })();
  await waitFor(() => logged(`edge listening on http://127.0.0.1:${port}`).length === 1, {
    timeoutMs: 15_000,
    what: "the pool to listen",
  });
  (globalThis as { base?: string }).base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  if (edge && edge.exitCode === null) edge.kill("SIGKILL");
  await nats?.stop();
});

const base = () => (globalThis as { base?: string }).base!;

test("two workers start and both answer on the shared port", async () => {
  const pids = logged("edge worker started").map((l) => l.pid as number);
  expect(pids).toHaveLength(2);
  const res = await fetch(`${base()}/api/hello/x`, { keepalive: false });
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("hi");
});

test("a killed worker is replaced within 1 s while the edge keeps answering", async () => {
  const [victim] = logged("edge worker started").map((l) => l as { pid: number; worker: number });
  let ok = 0;
  /** Answers other than 200 "hi": never acceptable, whenever they happen. */
  let wrongAnswers = 0;
  /** Connections reset: acceptable only for requests the dying worker had taken. */
  const resets: number[] = [];
  let goneAt = Number.POSITIVE_INFINITY;
  let running = true;
  const client = async () => {
    while (running) {
      const started = Date.now();
      try {
        const res = await fetch(`${base()}/api/hello/x`, { keepalive: false });
        if (res.status === 200 && (await res.text()) === "hi") ok++;
        else wrongAnswers++;
      } catch {
        resets.push(started);
      }
    }
  };
  const clients = Array.from({ length: 8 }, client);
  await waitFor(() => ok >= 200, { timeoutMs: 10_000, what: "traffic through both workers" });
  const killedAt = Date.now();
  process.kill(victim!.pid, "SIGKILL");
  // Until the kernel has torn the process down, connections may still land on its socket.
  await waitFor(() => !alive(victim!.pid), { timeoutMs: 2000, what: "the worker to be gone" });
  goneAt = Date.now();
  await waitFor(() => logged("edge worker started").length === 3, {
    timeoutMs: 2000,
    what: "a replacement worker",
  });
  const replacedAfter = Date.now() - killedAt;
  const okAtKill = ok;
  await waitFor(() => ok >= okAtKill + 300, { timeoutMs: 10_000, what: "the edge to keep answering" });
  running = false;
  await Promise.all(clients);
  // One object, so a failure shows every figure at once.
  expect({
    replacedWithin1s: replacedAfter < 1000,
    deaths: logged("edge worker died; replacing it").length,
    wrongAnswers,
    // Requests started once the worker was gone all went to the live ones.
    resetsAfterGone: resets.filter((t) => t > goneAt).length,
  }).toEqual({ replacedWithin1s: true, deaths: 1, wrongAnswers: 0, resetsAfterGone: 0 });
});

test("SIGTERM drains every worker and exits 0", async () => {
  const pids = logged("edge worker started").map((l) => l.pid as number);
  edge.kill("SIGTERM");
  expect(await edge.exited).toBe(0);
  expect(logged("edge stopped")).toHaveLength(1);
  for (const pid of pids) expect(alive(pid)).toBe(false);
});
