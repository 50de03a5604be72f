/**
 * Hostile input against the whole stack through the edge (issue 7, item 5):
 * fast-check generates requests for every operation of the merged OpenAPI
 * document — wrong types, missing and extra fields, huge strings and numbers,
 * Unicode edge cases, path traversal, duplicated and conflicting headers —
 * and raw HTTP whose framing lies. Every answer must come within a bound,
 * never be a 5xx, and every error must be problem+json with its status and
 * a title; the stack must still be healthy after each property.
 *
 * Reproduce a failure with the seed it prints: PROPERTY_SEED=<seed> bun test tests/property.
 * Scale with PROPERTY_RUNS (fetch cases per operation, default 200; raw and limit cases follow).
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fc from "fast-check";
import { startWebStack, type WebStack } from "../../edge/web/testdata/stack.ts";
import { rawViolations, violations } from "./expectations.ts";
import { type Fixtures, prepareFixtures } from "./fixtures.ts";
import { resolverFor } from "./json-schema.ts";
import {
  type HostileRequest,
  type RequestContext,
  requestAtLimits,
  requestFor,
} from "./openapi-arbitraries.ts";
import { type Operation, operationName, operationsOf, strayOperations } from "./operations.ts";
import { type RawContext, type RawRequest, rawRequestFor } from "./raw-requests.ts";
import { exchange } from "./raw-socket.ts";
import { send } from "./send.ts";

setDefaultTimeout(120_000);

const SEED = Number(process.env.PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
const REQUEST_BOUND_MS = 5000;
// The edge's defaults (EDGE_MAX_HEADER_BYTES, EDGE_MAX_URL_BYTES, EDGE_MAX_BODY_BYTES), which the stack runs with.
const LIMITS = { maxHeaderBytes: 16 * 1024, maxUrlBytes: 8 * 1024, maxBodyBytes: 6 * 1024 * 1024 };
const SERVICES = ["accounts", "runs", "stats", "plans"];

// Top-level await: the tests are made from the live document, so the stack runs before they are collected.
const started = performance.now();
const stack: WebStack = await startWebStack();
const port = Number(new URL(stack.url).port);
const fixtures: Fixtures = await prepareFixtures(stack.url);
const ctx: RequestContext & RawContext = {
  token: fixtures.token,
  ...LIMITS,
  resolve: resolverFor(fixtures.doc),
  ids: fixtures.ids,
};
const documented = operationsOf(fixtures.doc);
const cases = { fetch: 0, raw: 0 };
const statuses = new Map<number, number>(); // how far requests got: 2xx reached a handler's success path
const tally = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
console.log(`hostile input: seed ${SEED} (PROPERTY_SEED=${SEED} reproduces this run)`);

// Started now, checked last: a body shorter than its Content-Length on a connection the
// client keeps open. The server must not wait forever; Bun's idle timeout (10 s) closes it.
const lyingAndWaiting = exchange(
  port,
  new TextEncoder().encode(
    `POST /api/runs/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${fixtures.token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"distanceM":1`,
  ),
  { halfClose: false, timeoutMs: 20_000, quietMs: 0 },
);

afterAll(async () => {
  const s = ((performance.now() - started) / 1000).toFixed(1);
  const byStatus = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`);
  console.log(`hostile input: ${cases.fetch} fetch and ${cases.raw} raw requests in ${s} s, seed ${SEED}`);
  console.log(`hostile input: answers by status ${byStatus.join(" ")}`);
  await stack.stop();
});

/** The edge and every service still answer their health checks: nothing crashed or wedged. */
async function expectHealthy(): Promise<void> {
  for (const path of ["/healthz", ...SERVICES.map((s) => `/api/${s}/healthz`)]) {
    const res = await fetch(`${stack.url}${path}`, { signal: AbortSignal.timeout(REQUEST_BOUND_MS) });
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
  }
}

/** Sends one generated request and throws what is wrong with the answer. */
async function check(req: HostileRequest): Promise<void> {
  cases.fetch++;
  const outcome = await send(stack.url, req, REQUEST_BOUND_MS);
  if (outcome.kind !== "answer")
    throw new Error(`no answer (${outcome.kind} after ${outcome.ms} ms): ${outcome.detail}`);
  tally(outcome.answer.status);
  const wrong = violations(outcome.answer);
  if (wrong.length) throw new Error(`${wrong.join("; ")}\n  answer: ${outcome.answer.body.slice(0, 400)}`);
}

/** Hostile fetch requests for `op`, then a health check. */
async function hammer(op: Operation): Promise<void> {
  await fc.assert(fc.asyncProperty(requestFor(op, ctx), check), { numRuns: RUNS, seed: SEED });
  await expectHealthy();
}

/** Sends one raw request and throws what is wrong with the exchange. */
async function checkRaw(raw: RawRequest): Promise<void> {
  cases.raw++;
  const quietMs = raw.surplus ? 100 : 0; // the surplus may earn a second answer
  const x = await exchange(port, raw.bytes, {
    halfClose: raw.halfClose,
    timeoutMs: REQUEST_BOUND_MS,
    quietMs,
  });
  for (const r of x.responses) tally(r.status);
  const wrong = rawViolations({ ...x, version: raw.version, surplus: raw.surplus });
  if (!wrong.length) return;
  const answers = x.responses.map((r) => [r.status, r.body.slice(0, 300)]);
  throw new Error(`${wrong.join("; ")}\n  answers: ${JSON.stringify(answers)}`);
}

/** Raw requests for `op` (a third as many as fetch ones: each may wait on a socket), then a health check. */
async function hammerRaw(op: Operation): Promise<void> {
  await fc.assert(fc.asyncProperty(rawRequestFor(op, ctx), checkRaw), {
    numRuns: Math.ceil(RUNS / 3),
    seed: SEED,
  });
  await expectHealthy();
}

describe("every documented operation, through the edge", () => {
  test("the document lists every service's operations", () => {
    for (const s of SERVICES) expect(documented.some((o) => o.path.startsWith(`/api/${s}/`))).toBe(true);
  });
  for (const op of documented) test(operationName(op), () => hammer(op));
});

describe("routes the document does not list", () => {
  for (const op of strayOperations(SERVICES)) test(operationName(op), () => hammer(op));
});

describe("raw HTTP whose request line, headers or framing lie", () => {
  for (const op of documented) test(operationName(op), () => hammerRaw(op));

  test("a body shorter than its Content-Length, connection kept open: closed by the server, never a 5xx", async () => {
    const x = await lyingAndWaiting;
    expect(x.closed).toBe(true);
    expect(rawViolations({ ...x, version: "HTTP/1.1", surplus: false })).toEqual([]);
  });
});

describe("heads at the edge's limits", () => {
  test("a header block or target just under or over the limit: served, or the edge's own 431/414 problem", async () => {
    const anyOp = fc.constantFrom(...documented).chain((op) => requestAtLimits(op, ctx, LIMITS.maxUrlBytes));
    await fc.assert(fc.asyncProperty(anyOp, check), { numRuns: RUNS * 2, seed: SEED });
    await expectHealthy();
  });
});
