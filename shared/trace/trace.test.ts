/**
 * One trace across every hop, with real processes: the edge, a service, the
 * RPC it makes, the event it emits and that event's consumer in another
 * service all export spans of one trace to an in-process OTLP/HTTP receiver,
 * linked parent to child, and their log lines name the trace. Without an
 * OTLP endpoint the trace id still reaches the consumer and the logs.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningService, startService } from "../service/index.ts";
import {
  freePort,
  NatsServer,
  recordingLogger,
  type StartedScript,
  startScript,
  waitFor,
} from "../testing/mod.ts";
import { OtlpKind, OtlpReceiver } from "./testdata/otlp-receiver.ts";
import { callee, caller } from "./testdata/services.ts";

setDefaultTimeout(60_000);

const SERVICE_MAIN = join(import.meta.dir, "testdata", "main.ts");
const EDGE_MAIN = join(import.meta.dir, "..", "..", "edge", "main.ts");

const hex = (bytes: number) =>
  [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");

let nats: NatsServer;

beforeAll(async () => {
  nats = await NatsServer.start();
});
afterAll(() => nats?.stop());

type Proc = StartedScript;

function spawn(args: string[], env: Record<string, string>): Proc {
  return startScript(args, { PATH: process.env.PATH ?? "", ...env });
}

/** SIGTERM (a graceful stop exports the last spans), SIGKILL if it takes too long. */
async function stop(p: Proc): Promise<void> {
  if (p.proc.exitCode !== null) return;
  p.proc.kill("SIGTERM");
  const timer = setTimeout(() => p.proc.kill("SIGKILL"), 10_000);
  await p.proc.exited;
  clearTimeout(timer);
}

/** The JSON log lines of a process whose `msg` is `msg`. */
function logLines(p: Proc, msg: string): Record<string, unknown>[] {
  return p
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.msg === msg);
}

describe("with an OTLP endpoint", () => {
  let receiver: OtlpReceiver;
  const procs: Proc[] = [];
  let calleeProc: Proc;
  let callerProc: Proc;
  let edgeProc: Proc;
  let edgeUrl: string;

  beforeAll(async () => {
    receiver = OtlpReceiver.start();
    const env = {
      NATS_URL: nats.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), "runnerly-trace-")),
      LOG_LEVEL: "info",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      // Export within 50 ms of a span's end instead of the default 5 s.
      OTEL_BSP_SCHEDULE_DELAY: "50",
    };
    calleeProc = spawn([SERVICE_MAIN, "callee"], env);
    callerProc = spawn([SERVICE_MAIN, "caller"], env);
    const port = await freePort();
    edgeProc = spawn(["--max-http-header-size=65536", EDGE_MAIN], {
      ...env,
      LOG_LEVEL: "debug",
      EDGE_HOST: "127.0.0.1",
      EDGE_PORT: String(port),
      EDGE_WORKERS: "1",
      EDGE_AUTH: "off",
    });
    procs.push(calleeProc, callerProc, edgeProc);
    edgeUrl = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        const routes = await fetch(`${edgeUrl}/_/routes`).then((r) => r.text());
        return routes.includes("/api/caller") && logLines(calleeProc, "service ready").length > 0;
      },
      { timeoutMs: 30_000, what: "the edge routing to caller, and callee ready" },
    );
  });

  afterAll(async () => {
    await Promise.all(procs.map(stop));
    await receiver?.stop();
  });

  test("a request through the edge is one trace: edge, service, RPC both sides, event producer and consumer", async () => {
    const traceId = hex(16);
    const clientSpan = hex(8);
    const res = await fetch(`${edgeUrl}/api/caller/work`, {
      method: "POST",
      headers: { traceparent: `00-${traceId}-${clientSpan}-01` },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ n: 42 });

    const spans = await waitFor(
      () =>
        receiver.spansOf(traceId, {
          edge: ["edge", OtlpKind.server],
          edgeTry: ["edge", OtlpKind.client],
          service: ["caller", OtlpKind.server],
          rpcClient: ["caller", OtlpKind.client],
          rpcServer: ["callee", OtlpKind.server],
          producer: ["caller", OtlpKind.producer],
          consumer: ["callee", OtlpKind.consumer],
        }),
      {
        timeoutMs: 20_000,
        what: `every span of trace ${traceId} (got ${receiver.spans.length} spans in all)`,
      },
    );

    // Parent → child, from the client's span down to the consumer.
    expect(spans.edge.parentSpanId).toBe(clientSpan);
    expect(spans.edgeTry.parentSpanId).toBe(spans.edge.spanId);
    expect(spans.service.parentSpanId).toBe(spans.edgeTry.spanId);
    expect(spans.rpcClient.parentSpanId).toBe(spans.service.spanId);
    expect(spans.rpcServer.parentSpanId).toBe(spans.rpcClient.spanId);
    expect(spans.producer.parentSpanId).toBe(spans.service.spanId);
    expect(spans.consumer.parentSpanId).toBe(spans.producer.spanId);

    expect(spans.edge.name).toBe("POST /api/caller");
    expect(spans.service.name).toBe("POST /api/caller/work");
    expect(spans.service.attributes["http.response.status_code"]).toBe(201);
    expect(spans.rpcClient.name).toBe("callee/double");
    expect(spans.rpcServer.name).toBe("callee/double");
    expect(spans.producer.name).toBe("publish events.caller.work.done");
    expect(spans.consumer.name).toBe("process events.caller.work.done");
    expect(spans.consumer.attributes["mesh.event.outcome"]).toBe("applied");
    for (const span of Object.values(spans)) expect(span.status).not.toBe(2);

    // Log lines name the trace: request loggers, the service's own logger inside a request, the consumer's.
    const [done] = logLines(callerProc, "work done");
    expect(done).toMatchObject({ traceId, spanId: spans.service.spanId });
    const [recorded] = logLines(callerProc, "work recorded");
    expect(recorded).toMatchObject({ traceId, spanId: spans.service.spanId });
    const counted = await waitFor(() => logLines(calleeProc, "work counted")[0], {
      what: "the consumer's line",
    });
    expect(counted).toMatchObject({ traceId, spanId: spans.consumer.spanId });
    const proxied = logLines(edgeProc, "proxied").find((l) => l.traceId === traceId);
    expect(proxied).toMatchObject({ spanId: spans.edge.spanId, status: 201 });
  });
});

describe("without an OTLP endpoint", () => {
  const running: RunningService<Record<string, unknown>>[] = [];
  const logs = recordingLogger();

  beforeAll(async () => {
    const env = { NATS_URL: nats.url, DATA_DIR: mkdtempSync(join(tmpdir(), "runnerly-notrace-")) };
    running.push(await startService(callee, { env, logger: logs.child({ service: "callee" }) }));
    running.push(await startService(caller, { env, logger: logs.child({ service: "caller" }) }));
  });
  afterAll(async () => {
    for (const s of running.reverse()) await s.stop();
  });

  test("the caller's trace id still reaches the service's logs, the RPC, the event and its consumer", async () => {
    const traceId = hex(16);
    const direct = running[1]?.url;
    const res = await fetch(`${direct}/api/caller/work`, {
      method: "POST",
      headers: { traceparent: `00-${traceId}-${hex(8)}-01` },
    });
    expect(res.status).toBe(201);

    const done = logs.entries.find((e) => e.msg === "work done");
    expect(done?.fields.traceId).toBe(traceId);
    const counted = await waitFor(() => logs.entries.find((e) => e.msg === "work counted"), {
      timeoutMs: 10_000,
      what: "the event consumed",
    });
    expect(counted.fields).toMatchObject({ service: "callee", traceId });
    // The consumer's span is one more hop: same trace, its own span id, passed on to the handler.
    expect(counted.fields.traceparent).toBe(`00-${traceId}-${counted.fields.spanId}-01`);
    expect(counted.fields.spanId).not.toBe(done?.fields.spanId);
  });
});
