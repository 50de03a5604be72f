/**
 * Client faults are the client's: a body that stops half-way gets a 408
 * problem within EDGE_BODY_TIMEOUT_MS, a client that leaves is counted as 499,
 * and neither moves a figure of the service (`/_/slo`, its 5xx on `/metrics`).
 * The client's forwarding headers never reach a service; `Mesh-Client-Address`
 * says who the client is. The edge is the Bun adapter itself (its server, its
 * idle timeout, its Prometheus metrics) on a real socket, in front of a real
 * ADR-32 service on a real nats-server.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect as tcpConnect } from "node:net";
import type { ServiceMsg } from "@nats-io/services";
import { startBunEdge } from "../adapters/bun/serve.ts";
import { createEdge } from "../app.ts";
import { loadConfig } from "../config.ts";
import { createMemoryMetrics, type EdgeMetrics } from "../ops/metrics.ts";
import { addHttpService, connect, recordingLogger, respondText, waitFor } from "../test-utils.ts";
import { natsPerFile } from "../testdata/per-file.ts";

// Room for a loaded 2-core machine; every wait inside has its own, shorter bound.
setDefaultTimeout(20_000);

const { server, cleanup } = natsPerFile();
const BODY_TIMEOUT_MS = 600;

type Received = Record<string, string[]>;

/** The `probe` service: records the headers of each request by its `x-case-id`; `/hold` answers when released. */
async function startProbe() {
  const nc = await connect(server().url, "probe");
  cleanup.add(() => nc.close());
  const received = new Map<string, Received>();
  const held: { msg: ServiceMsg; release(): void }[] = [];
  await addHttpService(nc, {
    name: "probe",
    prefix: "/api/probe",
    handler(msg) {
      const headers: Received = {};
      for (const [name, values] of msg.headers ?? []) headers[name] = values;
      received.set(headers["x-case-id"]?.[0] ?? "", headers);
      const path = msg.headers?.get("Http-Path") ?? "";
      if (path.startsWith("/api/probe/hold")) {
        held.push({ msg, release: () => respondText(msg, 200, "done at last") });
      } else if (path.startsWith("/api/probe/unwell")) {
        respondText(msg, 503, "unwell");
      } else {
        respondText(msg, 200, `got ${msg.data.length}`);
      }
    },
  });
  return { received, held };
}

/** The edge as edge/adapters/bun runs it, on a free port; `env` is added to its environment. */
async function startEdge(env: Record<string, string> = {}) {
  const logs = recordingLogger();
  const config = loadConfig({
    NATS_URL: server().url,
    EDGE_PORT: "0",
    EDGE_AUTH: "off",
    EDGE_RATE_LIMIT_BUCKET: "off",
    EDGE_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS),
    ...env,
  });
  const running = await startBunEdge(config, logs, { clientName: "edge-client-faults" });
  cleanup.add(() => running.stop());
  return { base: running.url, port: running.server.port ?? 0, logs };
}

/** `edge_requests_total` of one service by status, summed over methods, from the edge's `/metrics`. */
async function requestsByStatus(base: string, service: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const [, labels = "", value] of text.matchAll(/^edge_requests_total\{([^}]*)\} (\S+)$/gm)) {
    const l = Object.fromEntries([...labels.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (l.service === service) out[l.status!] = (out[l.status!] ?? 0) + Number(value);
  }
  return out;
}

const serverErrors = (counts: Record<string, number>) =>
  Object.entries(counts).filter(([status]) => status.startsWith("5"));

/** The shortest window of the service's levels on `/_/slo`. */
async function levels(base: string, service: string) {
  const report = (await (await fetch(`${base}/_/slo`)).json()) as {
    services: { service: string; windows: { requests: number; failed: number }[] }[];
  };
  return report.services.find((s) => s.service === service)?.windows[0];
}

const head = (lines: string[]) => `${lines.join("\r\n")}\r\n\r\n`;

/**
 * Writes `bytes` and keeps the connection open, never sending the rest: what
 * the edge answers before it closes, and after how long (bounded).
 */
function sendAndStall(port: number, bytes: string): Promise<{ response: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = tcpConnect(port, "127.0.0.1");
    let response = "";
    const bound = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 8 s; got ${JSON.stringify(response)}`));
    }, 8000);
    socket.on("connect", () => socket.write(bytes));
    socket.on("data", (d) => {
      response += d.toString("latin1");
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(bound);
      resolve({ response, ms: performance.now() - started });
    });
  });
}

/** Sends the head with `Expect: 100-continue`; once the edge asks for the body, sends part of it and leaves. */
function sendPartAndLeave(port: number, lines: string[], part: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, "127.0.0.1");
    const bound = setTimeout(() => {
      socket.destroy();
      reject(new Error("the edge never asked for the body"));
    }, 5000);
    socket.on("connect", () => socket.write(head([...lines, "Expect: 100-continue"])));
    socket.on("data", (d) => {
      if (!d.toString("latin1").startsWith("HTTP/1.1 100")) return;
      clearTimeout(bound);
      socket.write(part, () => {
        socket.destroy();
        resolve();
      });
    });
    socket.on("error", () => {});
  });
}

describe("a client's body", () => {
  test.each([
    ["a Content-Length of 100 with 6 bytes sent", ["Content-Length: 100"], '{"a":1'],
    ["a chunked body whose last chunk never comes", ["Transfer-Encoding: chunked"], '6\r\n{"a":1\r\n'],
  ])("%s: a 408 problem within the body timeout, and no figure of the service moves", async (_name, framing, part) => {
    const probe = await startProbe();
    const edge = await startEdge();
    const ok = await fetch(`${edge.base}/api/probe/echo`, { method: "POST", body: '{"a":1}' });
    expect(await ok.text()).toBe("got 7");
    const before = await levels(edge.base, "probe");
    expect(before).toMatchObject({ requests: 1, failed: 0 });

    const lines = ["POST /api/probe/login HTTP/1.1", "Host: edge", "Content-Type: application/json"];
    const { response, ms } = await sendAndStall(
      edge.port,
      head([...lines, "x-case-id: stalled", ...framing]) + part,
    );
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(response).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/i);
    expect(response).toMatch(/\r\nconnection: close\r\n/i);
    const problem = JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;
    expect(problem).toMatchObject({ status: 408, title: "Request Timeout" });
    expect(String(problem.detail)).toContain(`body did not arrive within ${BODY_TIMEOUT_MS} ms`);
    // The edge's timeout answered: not Bun's idle timeout (seconds later), not a hang.
    expect(ms).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 50);
    expect(ms).toBeLessThan(BODY_TIMEOUT_MS + 3000);

    expect(probe.received.has("stalled")).toBe(false);
    expect(await requestsByStatus(edge.base, "probe")).toEqual({ "200": 1, "408": 1 });
    expect(await levels(edge.base, "probe")).toEqual(before);
    expect(edge.logs.entries.filter((e) => e.level === "error")).toEqual([]);
  });

  test("a body whose framing is broken gets the server's 400, and is no error of the service", async () => {
    await startProbe();
    const edge = await startEdge();
    const lines = ["POST /api/probe/x HTTP/1.1", "Host: edge", "Transfer-Encoding: chunked"];
    const { response } = await sendAndStall(edge.port, `${head(lines)}3\r\nabc\r\nzz\r\n`);
    // Bun's parser refuses it itself (a bare 400) and closes; the edge sees a body that never ends.
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    await waitFor(async () => (await requestsByStatus(edge.base, "probe"))["499"] === 1, {
      what: "the cut-short request counted as 499",
    });
    expect(serverErrors(await requestsByStatus(edge.base, "probe"))).toEqual([]);
    expect(await levels(edge.base, "probe")).toBeUndefined();
    expect(edge.logs.entries.filter((e) => e.level === "error")).toEqual([]);
  });

  test("a client that leaves half-way through its body is counted as 499, never as its service's 5xx", async () => {
    const probe = await startProbe();
    const edge = await startEdge();
    const lines = ["POST /api/probe/login HTTP/1.1", "Host: edge", "Content-Length: 100", "x-case-id: left"];
    await sendPartAndLeave(edge.port, lines, '{"a":1');
    await waitFor(async () => (await requestsByStatus(edge.base, "probe"))["499"] === 1, {
      what: "the abandoned request counted as 499",
    });
    expect(await requestsByStatus(edge.base, "probe")).toEqual({ "499": 1 });
    expect(await levels(edge.base, "probe")).toBeUndefined();
    expect(probe.received.has("left")).toBe(false);
    expect(edge.logs.entries.filter((e) => e.level === "error")).toEqual([]);
    expect(edge.logs.entries.map((e) => e.msg)).not.toContain("edge route failed");
  });
});

describe("a client that leaves after its body was sent", () => {
  test("while the service works: the service's answer is what counts", async () => {
    const probe = await startProbe();
    const edge = await startEdge();
    const client = new AbortController();
    const call = fetch(`${edge.base}/api/probe/hold`, {
      method: "POST",
      body: "{}",
      signal: client.signal,
    }).catch((err: unknown) => err);
    const [held] = await waitFor(() => (probe.held.length === 1 ? probe.held : null), {
      what: "the service holding the request",
    });
    client.abort();
    expect(await call).toBeInstanceOf(Error);
    held!.release();
    await waitFor(async () => (await requestsByStatus(edge.base, "probe"))["200"] === 1, {
      what: "the service's 200 counted",
    });
    expect(await levels(edge.base, "probe")).toMatchObject({ requests: 1, failed: 0 });
  });

  test("while a retry waits: 499, not the service's 5xx, and not in its levels", async () => {
    await startProbe();
    const nc = await connect(server().url, "edge");
    cleanup.add(() => nc.close());
    const client = new AbortController();
    const memory = createMemoryMetrics();
    // The client leaves the moment the edge decides to retry (before its back-off sleep).
    const metrics: EdgeMetrics = {
      ...memory,
      retry(service, reason) {
        memory.retry(service, reason);
        client.abort();
      },
    };
    const edge = createEdge({
      nc,
      logger: recordingLogger(),
      metrics,
      retry: { backoffMs: 5000, backoffMaxMs: 5000 },
      hedge: { enabled: false },
    });
    cleanup.add(() => edge.close());
    await edge.ready;
    const answered = await edge.app.request("/api/probe/unwell", { signal: client.signal });
    expect(answered.status).toBe(499);
    expect(memory.value("edge_retries_total", { service: "probe", reason: "503" })).toBe(1);
    expect(memory.value("edge_requests_total", { service: "probe", method: "GET", status: "499" })).toBe(1);
    expect(memory.value("edge_requests_total", { service: "probe", method: "GET", status: "503" })).toBe(0);
    const slo = (await (await edge.app.request("/_/slo")).json()) as { services: unknown[] };
    expect(slo.services).toEqual([]);
  });
});

describe("who the client is", () => {
  const spoofed = {
    "X-Forwarded-For": "203.0.113.66",
    Forwarded: "for=203.0.113.66;host=evil.example;proto=https",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "https",
    "X-Real-IP": "203.0.113.66",
    "Mesh-Client-Address": "203.0.113.66",
  };
  const FORWARDING = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip"];

  async function sendAs(
    base: string,
    caseId: string,
    headers: Record<string, string>,
    probe: { received: Map<string, Received> },
  ) {
    const res = await fetch(`${base}/api/probe/echo`, { headers: { ...headers, "x-case-id": caseId } });
    expect(res.status).toBe(200);
    const got = probe.received.get(caseId) ?? {};
    const names = Object.keys(got).map((n) => n.toLowerCase());
    return { got, names };
  }

  test("forwarding headers a client writes never reach the service; Mesh-Client-Address is the peer", async () => {
    const probe = await startProbe();
    const edge = await startEdge();
    const { got, names } = await sendAs(edge.base, "spoofed", spoofed, probe);
    for (const name of FORWARDING) expect(names).not.toContain(name);
    expect(got["Mesh-Client-Address"]).toEqual(["127.0.0.1"]);
    // Without any forwarding header the service is told the same.
    expect((await sendAs(edge.base, "plain", {}, probe)).got["Mesh-Client-Address"]).toEqual(["127.0.0.1"]);
  });

  test("behind a trusted proxy: the address that proxy forwarded, still without the header itself", async () => {
    const probe = await startProbe();
    const edge = await startEdge({ EDGE_TRUSTED_PROXIES: "127.0.0.1/32" });
    const { got, names } = await sendAs(
      edge.base,
      "proxied",
      { ...spoofed, "X-Forwarded-For": "198.51.100.1, 203.0.113.9" },
      probe,
    );
    for (const name of FORWARDING) expect(names).not.toContain(name);
    // Read from the right: the proxy vouches for 203.0.113.9, not for what that client claimed before it.
    expect(got["Mesh-Client-Address"]).toEqual(["203.0.113.9"]);
  });
});
