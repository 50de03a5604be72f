/**
 * One trace from a submit to its callback, with real processes: the
 * requester's request span, the task's publish from its outbox, the worker's
 * span, the result's publish from the worker's outbox and the callback's span
 * are exported to an in-process OTLP/HTTP receiver, linked parent to child.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, NatsServer, type StartedScript, startScript, waitFor } from "../testing/mod.ts";
import { OtlpKind, OtlpReceiver } from "../trace/testdata/otlp-receiver.ts";

setDefaultTimeout(60_000);

const MAIN = join(import.meta.dir, "testdata", "main.ts");
const hex = (bytes: number) =>
  [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");

let nats: NatsServer;
let receiver: OtlpReceiver;
let dataDir: string;
let askerUrl: string;
const procs: StartedScript[] = [];

beforeAll(async () => {
  nats = await NatsServer.start();
  receiver = OtlpReceiver.start();
  dataDir = mkdtempSync(join(tmpdir(), "runnerly-task-trace-"));
  const env = (fixture: string, port: number) => ({
    PATH: process.env.PATH ?? "",
    TASK_FIXTURE: fixture,
    NATS_URL: nats.url,
    DATA_DIR: join(dataDir, fixture),
    PORT: String(port),
    LOG_LEVEL: "info",
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    // Export within 50 ms of a span's end instead of the default 5 s.
    OTEL_BSP_SCHEDULE_DELAY: "50",
  });
  const askerPort = await freePort();
  askerUrl = `http://127.0.0.1:${askerPort}`;
  procs.push(
    startScript([MAIN], env("tasker", await freePort())),
    startScript([MAIN], env("asker", askerPort)),
  );
  await waitFor(() => procs.every((p) => p.output().includes('"service ready"')), {
    timeoutMs: 30_000,
    what: "tasker and asker ready",
  });
});

afterAll(async () => {
  for (const p of procs) {
    if (p.proc.exitCode === null) p.proc.kill("SIGTERM");
    await p.proc.exited;
  }
  await receiver?.stop();
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("submit → work → callback is one trace, each hop the child of the one before", async () => {
  const traceId = hex(16);
  const clientSpan = hex(8);
  const res = await fetch(`${askerUrl}/api/asker/asks`, {
    method: "POST",
    headers: { "content-type": "application/json", traceparent: `00-${traceId}-${clientSpan}-01` },
    body: JSON.stringify({ n: 6 }),
  });
  expect(res.status).toBe(202);

  const spans = await waitFor(
    () =>
      receiver.spansOf(traceId, {
        request: ["asker", OtlpKind.server],
        submit: ["asker", OtlpKind.producer],
        work: ["tasker", OtlpKind.consumer],
        answer: ["tasker", OtlpKind.producer],
        callback: ["asker", OtlpKind.consumer],
      }),
    { timeoutMs: 20_000, what: `every span of trace ${traceId} (got ${receiver.spans.length} spans in all)` },
  );

  expect(spans.request.parentSpanId).toBe(clientSpan);
  expect(spans.submit.parentSpanId).toBe(spans.request.spanId);
  expect(spans.work.parentSpanId).toBe(spans.submit.spanId);
  expect(spans.answer.parentSpanId).toBe(spans.work.spanId);
  expect(spans.callback.parentSpanId).toBe(spans.answer.spanId);
  expect(spans.submit.name).toBe("publish tasks.tasker.square");
  expect(spans.work.name).toBe("work tasks.tasker.square");
  expect(spans.answer.name).toBe("publish results.asker.tasker.square");
  expect(spans.callback.name).toBe("callback results.asker.tasker.square");
  for (const span of Object.values(spans)) expect(span.status).not.toBe(2);
});
