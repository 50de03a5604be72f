/**
 * Load balancing per instance with real processes: three instances of a kit
 * service (testdata/mesh-service.ts) behind the edge, one of them stopped
 * with SIGSTOP (a hung process: its NATS connection stays open), slowed, or
 * failing, under a paced load. The edge chooses the instance of every try, so
 * none of these may cost a request that could be answered elsewhere.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { meshFetch } from "@runnerly/kit/testing";
import { instanceSubject } from "@runnerly/kit/web";
import type { RouteStatus } from "../app.ts";
import { createMemoryMetrics } from "../ops/metrics.ts";
import { connect, recordingLogger, startEdge, waitFor } from "../test-utils.ts";
import { natsPerFile } from "../testdata/per-file.ts";
import { type MeshProcess, meshProcesses } from "../testdata/spawn.ts";

setDefaultTimeout(60_000);

const { server, cleanup } = natsPerFile();

/** One answered request: when it was sent (ms since the load began), what came back, how long it took. */
type Sample = { at: number; status: number; ms: number; instance: string | null; pid: number | null };

async function setup(routeTimeouts: { prefix: string; ms: number }[] = []) {
  const mesh = meshProcesses(server().url);
  cleanup.add(() => mesh.stopAll());
  const nc = await connect(server().url, "edge");
  cleanup.add(() => nc.close());
  const metrics = createMemoryMetrics();
  const edge = await startEdge({ nc, logger: recordingLogger(), metrics, routeTimeouts });
  cleanup.add(() => edge.close());
  const route = () => edge.status().find((r) => r.service === "mesh");
  const procs = [mesh.start(), mesh.start(), mesh.start()];
  await waitFor(() => route()?.instances.length === 3, { timeoutMs: 15_000, what: "three instances" });
  // A process stopped by a test must not outlive it stopped.
  cleanup.add(() => {
    for (const p of procs) if (p.proc.exitCode === null) process.kill(p.pid, "SIGCONT");
  });
  return { mesh, nc, edge, metrics, route, procs };
}

/**
 * Sends `rate` requests a second for `seconds`, paced (never waiting for
 * answers), calling `tick(elapsedMs)` between batches; resolves with every
 * answer once all have come back.
 */
async function paced(
  send: () => Promise<Response>,
  rate: number,
  seconds: number,
  tick: (elapsedMs: number) => void = () => {},
): Promise<Sample[]> {
  const total = rate * seconds;
  const pending: Promise<Sample>[] = [];
  const t0 = performance.now();
  async function one(): Promise<Sample> {
    const at = performance.now() - t0;
    const res = await send();
    const ms = performance.now() - t0 - at;
    const body = (await res.json().catch(() => ({}))) as { instance?: string; pid?: number };
    return { at, status: res.status, ms, instance: body.instance ?? null, pid: body.pid ?? null };
  }
  for (let sent = 0; sent < total; ) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    for (; sent < due; sent++) pending.push(one());
    tick(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Promise.all(pending);
}

function p99(samples: Sample[]): number {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}

function statuses(samples: Sample[]): [number, number][] {
  const counts = new Map<number, number>();
  for (const s of samples) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a - b);
}

/** The instance id of a process, from an answer it gave. */
async function idOf(
  edge: { app: { request(path: string): Response | Promise<Response> } },
  proc: MeshProcess,
  timeoutMs = 5000,
): Promise<string> {
  return waitFor(
    async () => {
      const res = await edge.app.request("/api/mesh/hello");
      const body = (await res.json()) as { instance: string; pid: number };
      return body.pid === proc.pid ? body.instance : null;
    },
    { timeoutMs, intervalMs: 1, what: `an answer from pid ${proc.pid}` },
  );
}

describe("an instance that hangs (SIGSTOP)", () => {
  test("one of three stopped for 5 s at 200 GET/s: 0 failed, p99 ≤ 500 ms, circuit closed; it serves again within 10 s of SIGCONT", async () => {
    const { edge, route, procs } = await setup();
    const stopped = procs[1]!;
    const circuits = new Set<string>();
    let stoppedAt = 0;
    let continuedAt = 0;
    const samples = await paced(
      async () => edge.app.request("/api/mesh/hello"),
      200,
      10,
      (elapsed) => {
        circuits.add(route()?.circuit ?? "none");
        if (!stoppedAt && elapsed >= 2000) {
          process.kill(stopped.pid, "SIGSTOP");
          stoppedAt = elapsed;
        }
        if (stoppedAt && !continuedAt && elapsed >= stoppedAt + 5000) {
          process.kill(stopped.pid, "SIGCONT");
          continuedAt = performance.now();
        }
      },
    );
    expect(statuses(samples)).toEqual([[200, 2000]]);
    expect(p99(samples)).toBeLessThanOrEqual(500);
    // One hung instance is no reason to stop calling its service.
    expect([...circuits]).toEqual(["closed"]);
    // It was serving before it stopped, and serves again after SIGCONT.
    expect(samples.some((s) => s.pid === stopped.pid && s.at < stoppedAt)).toBe(true);
    await waitFor(
      async () => {
        const res = await edge.app.request("/api/mesh/hello");
        return ((await res.json()) as { pid: number }).pid === stopped.pid;
      },
      {
        timeoutMs: Math.max(1, 10_000 - (performance.now() - continuedAt)),
        intervalMs: 5,
        what: "traffic to the continued instance",
      },
    );
  });
});

describe("an instance that turns slow", () => {
  test("+100 ms on one of three under load: within 5 s its share is below 10 %, and p99 stays within 2 × the healthy instances'", async () => {
    const { edge, procs } = await setup();
    const slow = procs[2]!;
    let slowedAt = 0;
    // Every answer takes 5 ms of work, so latencies are not all noise.
    const samples = await paced(
      async () => edge.app.request("/api/mesh/hello?delay=5"),
      200,
      10,
      (elapsed) => {
        if (!slowedAt && elapsed >= 2000) {
          process.kill(slow.pid, "SIGUSR1");
          slowedAt = elapsed;
        }
      },
    );
    expect(statuses(samples)).toEqual([[200, 2000]]);
    // It had its share before it slowed down.
    const before = samples.filter((s) => s.at < slowedAt);
    expect(before.filter((s) => s.pid === slow.pid).length).toBeGreaterThan(before.length * 0.1);
    // From 5 s after it slowed down: under 10 % of the requests.
    const settled = samples.filter((s) => s.at >= slowedAt + 5000);
    expect(settled.length).toBeGreaterThan(400);
    expect(settled.filter((s) => s.pid === slow.pid).length).toBeLessThan(settled.length * 0.1);
    // Over the whole slow phase, the p99 of all requests against that of the healthy instances' answers.
    const after = samples.filter((s) => s.at >= slowedAt);
    const healthy = after.filter((s) => s.pid !== slow.pid);
    expect(p99(after)).toBeLessThanOrEqual(2 * p99(healthy));
  });
});

describe("an instance that fails", () => {
  test("is ejected, shown so in /_/routes and /metrics; its requests answered elsewhere; the circuit opens only when every instance fails", async () => {
    const { edge, metrics, route, procs } = await setup();
    const failing = await idOf(edge, procs[0]!);
    const circuits = new Set<string>();
    const answered: number[] = [];
    const ejections = () => metrics.value("edge_ejections_total", { service: "mesh", reason: "503" });
    // Ten at a time, so the healthy ones have tries in flight and the failing one (fast to say 503)
    // keeps being drawn, whatever its first answers cost; until it is ejected, bounded.
    for (let wave = 0; wave < 50 && ejections() === 0; wave++) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, async () => edge.app.request(`/api/mesh/hello?fail=${failing}`)),
      );
      answered.push(...batch.map((r) => r.status));
      circuits.add(route()?.circuit ?? "none");
    }
    // Every 503 of the failing instance was retried on another one.
    expect(answered.filter((s) => s !== 200)).toEqual([]);
    expect([...circuits]).toEqual(["closed"]);
    expect(metrics.value("edge_ejections_total", { service: "mesh", reason: "503" })).toBe(1);
    const listed = (await (await edge.app.request("/_/routes")).json()) as { routes: RouteStatus[] };
    const instances = listed.routes.find((r) => r.service === "mesh")?.instances ?? [];
    const ejected = instances.find((i) => i.id === failing);
    expect(ejected?.balance?.state).toBe("ejected");
    expect(Date.parse(ejected?.balance?.ejectedUntil ?? "")).toBeGreaterThan(Date.now());
    expect(ejected?.balance?.ejections).toBe(1);
    expect(instances.filter((i) => i.id !== failing).map((i) => i.balance?.state)).toEqual([
      "healthy",
      "healthy",
    ]);
    const text = await (await edge.app.request("/metrics")).text();
    expect(text).toContain('edge_ejections_total{service="mesh",reason="503"} 1');

    // Every instance failing: now the circuit opens, and requests fail fast with 503.
    await waitFor(
      async () => {
        await edge.app.request("/api/mesh/hello?fail=all");
        return route()?.circuit === "open";
      },
      { timeoutMs: 10_000, intervalMs: 1, what: "the circuit to open" },
    );
    const res = await edge.app.request("/api/mesh/hello");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).not.toBeNull();
    // At most half of three instances (one) is ejected at once.
    const after = route()?.instances.filter((i) => i.balance?.state === "ejected") ?? [];
    expect(after.length).toBe(1);
  });
});

describe("a POST without an Idempotency-Key", () => {
  test("is never hedged or retried once it may have reached an instance, and no 504 hides a write", async () => {
    const { edge, metrics, procs, nc } = await setup([{ prefix: "/api/mesh", ms: 1500 }]);
    const stopped = procs[0]!;
    const stoppedId = await idOf(edge, stopped);
    const answers: number[] = [];
    try {
      process.kill(stopped.pid, "SIGSTOP");
      // In waves of ten, so the stopped instance gets its turns when its tries have timed out.
      for (let wave = 0; wave < 4; wave++) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            edge.app.request("/api/mesh/items", {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ name: `w${wave}-${i}` }),
            }),
          ),
        );
        answers.push(...batch.map((r) => r.status));
      }
    } finally {
      process.kill(stopped.pid, "SIGCONT");
    }
    // Some went to the stopped instance and waited out their deadline: 504, never sent twice.
    expect(answers.filter((s) => s === 504).length).toBeGreaterThan(0);
    expect(answers.filter((s) => s !== 504 && s !== 201)).toEqual([]);
    expect(metrics.value("edge_hedges_total", { service: "mesh" })).toBe(0);
    for (const reason of ["timeout", "502", "503", "504"])
      expect(metrics.value("edge_retries_total", { service: "mesh", reason })).toBe(0);
    // The continued instance handles what it held first (their deadline passed: refused), then
    // a request on its own subject; the rows are then exactly the 201s.
    const own = await meshFetch(nc, "mesh", "/api/mesh/hello", {
      subject: instanceSubject("mesh", stoppedId),
      timeoutMs: 10_000,
    });
    expect(((await own.json()) as { pid: number }).pid).toBe(stopped.pid);
    const count = (await (await edge.app.request("/api/mesh/count")).json()) as { count: number };
    expect(count.count).toBe(answers.filter((s) => s === 201).length);
  });
});
