import { afterEach, expect, test } from "bun:test";
import { withDeadline } from "../deadline/index.ts";
import { MeshError } from "../errors/index.ts";
import { WorkFailed, WorkPool } from "./pool.ts";

type In = { ms: number; fail?: string; hang?: boolean; bytes?: ArrayBuffer };
type Out = { ms: number; bytes: number };

// Results are awaited, then checked: bun test's `expect(promise).resolves` waits in a way that
// does not deliver a worker thread's messages, so a job given to an idle thread never settles there.

const pools: WorkPool<In, Out>[] = [];
afterEach(() => {
  for (const p of pools.splice(0)) p.close();
});

function pool(options: { workers?: number; queue?: number; perCaller?: number } = {}) {
  const p = new WorkPool<In, Out>({
    name: "test work",
    module: new URL("./testdata/busy-worker.ts", import.meta.url),
    workers: 1,
    queue: 1,
    ...options,
  });
  pools.push(p);
  return p;
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

test("work runs on a thread: the event loop keeps turning while a job burns 400 ms of CPU", async () => {
  const p = pool();
  await p.run({ ms: 1 }, { caller: "warm-up" });
  let longest = 0;
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  const bytes = new ArrayBuffer(1024);
  const out = await p.run({ ms: 400, bytes }, { caller: "a", transfer: [bytes] });
  clearInterval(tick);
  expect(out).toEqual({ ms: 400, bytes: 1024 });
  // Transferred, not copied: the caller's buffer is detached.
  expect(bytes.byteLength).toBe(0);
  expect(longest).toBeLessThan(150);
});

test("a caller with a job in progress is refused with 429 and Retry-After; another caller is not", async () => {
  const p = pool({ workers: 2 });
  const first = p.run({ ms: 200 }, { caller: "a" });
  const err = await rejection(p.run({ ms: 1 }, { caller: "a" }));
  expect(err).toBeInstanceOf(MeshError);
  expect((err as MeshError).status).toBe(429);
  expect(Number((err as MeshError).headers["retry-after"])).toBeGreaterThanOrEqual(1);
  expect((err as MeshError).detail).toContain("in progress");
  expect(await p.run({ ms: 1 }, { caller: "b" })).toEqual({ ms: 1, bytes: 0 });
  await first;
  // Once answered, the same caller may go again.
  expect(await p.run({ ms: 1 }, { caller: "a" })).toEqual({ ms: 1, bytes: 0 });
  expect(p.figures().refusedCaller).toBe(1);
});

test("beyond the threads and the queue, a job is refused with 503 and Retry-After; the queued one runs", async () => {
  const p = pool({ workers: 1, queue: 1 });
  const running = p.run({ ms: 200 }, { caller: "a" });
  const queued = p.run({ ms: 1 }, { caller: "b" });
  expect(p.figures()).toMatchObject({ running: 1, queued: 1 });
  const err = (await rejection(p.run({ ms: 1 }, { caller: "c" }))) as MeshError;
  expect(err.status).toBe(503);
  expect(Number(err.headers["retry-after"])).toBeGreaterThanOrEqual(1);
  expect(await running).toEqual({ ms: 200, bytes: 0 });
  expect(await queued).toEqual({ ms: 1, bytes: 0 });
  expect(p.figures()).toMatchObject({ running: 0, queued: 0, refusedFull: 1, done: 2 });
});

test("at its deadline a running job is stopped and a waiting one dropped (504); the pool goes on", async () => {
  const p = pool({ workers: 1, queue: 2 });
  const deadline = Date.now() + 300;
  const started = performance.now();
  const hung = p.run({ ms: 0, hang: true }, { caller: "a", deadline });
  const waiting = withDeadline(deadline, () => p.run({ ms: 1 }, { caller: "b" }));
  const [e1, e2] = (await Promise.all([rejection(hung), rejection(waiting)])) as MeshError[];
  expect([e1?.status, e2?.status]).toEqual([504, 504]);
  expect(e1?.detail).toContain("test work was stopped");
  expect(performance.now() - started).toBeLessThan(2000);
  expect(p.figures()).toMatchObject({ running: 0, queued: 0, abandoned: 2 });
  // The hung thread was ended and replaced.
  expect(await p.run({ ms: 1 }, { caller: "a" })).toEqual({ ms: 1, bytes: 0 });
});

test("a job past its deadline is not started", async () => {
  const p = pool();
  const err = (await rejection(p.run({ ms: 1 }, { caller: "a", deadline: Date.now() - 1 }))) as MeshError;
  expect(err.status).toBe(504);
  expect(p.figures().threads).toBe(0);
});

test("an error thrown in the worker comes back as WorkFailed with its name and message", async () => {
  const p = pool();
  const err = await rejection(p.run({ ms: 0, fail: "no such thing" }, { caller: "a" }));
  expect(err).toBeInstanceOf(WorkFailed);
  expect((err as WorkFailed).name).toBe("Refused");
  expect((err as WorkFailed).message).toBe("no such thing");
  expect(await p.run({ ms: 1 }, { caller: "a" })).toEqual({ ms: 1, bytes: 0 });
});

test("a worker module that does not load fails its job, not the process", async () => {
  const p = new WorkPool<In, Out>({
    name: "broken",
    module: new URL("./testdata/missing.ts", import.meta.url),
  });
  pools.push(p);
  const err = await rejection(p.run({ ms: 1 }, { caller: "a" }));
  expect(err).toBeInstanceOf(WorkFailed);
  expect((err as Error).message).toContain("broken failed in its worker");
});
