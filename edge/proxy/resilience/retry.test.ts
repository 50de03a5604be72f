/**
 * The retry loop on its own: tries are plain functions returning outcomes (no
 * NATS here; the integration tests send real ones), so the rules can be
 * checked one by one: what is retried, how long each try may wait, when the
 * loop stops.
 */
import { describe, expect, test } from "bun:test";
import type { Outcome } from "../attempt.ts";
import { Breakers } from "./breaker.ts";
import { Deadline } from "./deadline.ts";
import { isIdempotent, Retrier, type RetryOptions, retryReason } from "./retry.ts";

const reply = (status: number) => ({ kind: "reply", status, msg: {} }) as unknown as Outcome;

function retrier(options: Partial<RetryOptions> = {}, failures = 1000) {
  const breakers = new Breakers<Outcome>(
    { failures, halfOpenAfterMs: 60_000 },
    (o) => o.kind !== "reply" || o.status >= 500,
  );
  const retries: string[] = [];
  const r = new Retrier(
    {
      maxAttempts: 3,
      perTryMinMs: 10,
      backoffMs: 1,
      backoffMaxMs: 2,
      budget: { ratio: 0.2, minRetries: 100, windowMs: 10_000 },
      ...options,
    },
    breakers,
    { onRetry: (_s, reason) => void retries.push(reason) },
  );
  return { r, breakers, retries };
}

/** A send that answers with the given outcomes in turn and records the timeout of each try. */
function script(...outcomes: Outcome[]) {
  const timeouts: number[] = [];
  return {
    timeouts,
    send(ms: number): Promise<Outcome> {
      timeouts.push(ms);
      return Promise.resolve(outcomes[timeouts.length - 1] ?? reply(200));
    },
  };
}

describe("isIdempotent", () => {
  test.each([
    ["GET", {}, true],
    ["HEAD", {}, true],
    ["OPTIONS", {}, true],
    ["PUT", {}, true],
    ["DELETE", {}, true],
    ["POST", {}, false],
    ["POST", { "Idempotency-Key": "k1" }, true],
    ["PATCH", {}, false],
    ["PATCH", { "Idempotency-Key": "k1" }, false],
  ])("%s %o → %p", (method, headers, expected) => {
    expect(isIdempotent(method, new Headers(headers))).toBe(expected);
  });
});

describe("retryReason", () => {
  test.each([
    [{ kind: "no-responders" }, false, "no-responders"], // reached nobody: safe even for a POST
    [{ kind: "timeout" }, false, null], // may have reached a service: never resend a plain POST
    [{ kind: "timeout" }, true, "timeout"],
    [reply(503), true, "503"],
    [reply(502), true, "502"],
    [reply(500), true, null], // a bug, most likely: trying again does not help
    [reply(503), false, null],
    [reply(404), true, null],
    [{ kind: "open" }, true, null],
    [{ kind: "too-large" }, true, null],
  ] as [Outcome, boolean, string | null][])("%o, idempotent %p → %p", (outcome, idempotent, expected) => {
    expect(retryReason(outcome, idempotent)).toBe(expected);
  });
});

describe("Retrier", () => {
  test("retries a timed-out GET, each try waiting a third of what is left, the last all of it", async () => {
    const { r, retries } = retrier({ perTryMinMs: 10 });
    const s = script({ kind: "timeout" }, { kind: "timeout" }, reply(200));
    const deadline = new Deadline(3000);
    const outcome = await r.call({ service: "a", idempotent: true, deadline, send: s.send });
    deadline.dispose();
    expect(outcome).toMatchObject({ kind: "reply", status: 200 });
    expect(retries).toEqual(["timeout", "timeout"]);
    const [first, second, third] = s.timeouts as [number, number, number];
    expect(first).toBeGreaterThanOrEqual(990); // a third of 3000
    expect(first).toBeLessThanOrEqual(1000);
    // These tries "time out" at once, so little time passes: each non-last try waits a
    // third of what is left, the last all of it.
    expect(second).toBeGreaterThan(900);
    expect(second).toBeLessThanOrEqual(1000);
    expect(third).toBeGreaterThan(2900);
  });

  test("a POST without a key: one try with the whole deadline, never resent after a timeout", async () => {
    const { r } = retrier();
    const s = script({ kind: "timeout" });
    const deadline = new Deadline(3000);
    const outcome = await r.call({ service: "a", idempotent: false, deadline, send: s.send });
    deadline.dispose();
    expect(outcome.kind).toBe("timeout");
    expect(s.timeouts).toHaveLength(1);
    expect(s.timeouts[0]).toBeGreaterThan(2900);
  });

  test("a POST without a key is retried when its try reached nobody", async () => {
    const { r } = retrier();
    const s = script({ kind: "no-responders" }, reply(201));
    const deadline = new Deadline(3000);
    const outcome = await r.call({ service: "a", idempotent: false, deadline, send: s.send });
    deadline.dispose();
    expect(outcome).toMatchObject({ status: 201 });
    expect(s.timeouts).toHaveLength(2);
  });

  test("stops after maxAttempts and returns the last outcome", async () => {
    const { r } = retrier({ maxAttempts: 2 });
    const s = script(reply(503), reply(503), reply(200));
    const deadline = new Deadline(3000);
    const outcome = await r.call({ service: "a", idempotent: true, deadline, send: s.send });
    deadline.dispose();
    expect(outcome).toMatchObject({ status: 503 });
    expect(s.timeouts).toHaveLength(2);
  });

  test("an empty budget means no retry, and the one try gets the whole deadline", async () => {
    const { r } = retrier({ budget: { ratio: 0, minRetries: 0, windowMs: 10_000 } });
    const s = script({ kind: "timeout" }, reply(200));
    const deadline = new Deadline(3000);
    const outcome = await r.call({ service: "a", idempotent: true, deadline, send: s.send });
    deadline.dispose();
    expect(outcome.kind).toBe("timeout");
    expect(s.timeouts).toHaveLength(1);
    expect(s.timeouts[0]).toBeGreaterThan(2900);
  });

  test("a try is given no more than the time left, so the call ends by the deadline and sends nothing more", async () => {
    const { r } = retrier({ perTryMinMs: 1000 });
    const given: number[] = [];
    const deadline = new Deadline(50);
    const t0 = performance.now();
    const outcome = await r.call({
      service: "a",
      idempotent: true,
      deadline,
      // Like a NATS request: it times out after the time it is given.
      send: (ms) => {
        given.push(ms);
        return new Promise<Outcome>((resolve) => setTimeout(() => resolve({ kind: "timeout" }), ms));
      },
    });
    expect(outcome.kind).toBe("timeout");
    expect(performance.now() - t0).toBeLessThan(500);
    expect(given).toHaveLength(1);
    expect(given[0]!).toBeLessThanOrEqual(50);
  });

  test("an open circuit answers `open` without a try", async () => {
    const { r } = retrier({ maxAttempts: 1 }, 2);
    const failing = script(reply(500), reply(500));
    for (let i = 0; i < 2; i++) {
      const deadline = new Deadline(1000);
      await r.call({ service: "b", idempotent: true, deadline, send: failing.send });
      deadline.dispose();
    }
    const s = script(reply(200));
    const deadline = new Deadline(1000);
    expect((await r.call({ service: "b", idempotent: true, deadline, send: s.send })).kind).toBe("open");
    deadline.dispose();
    expect(s.timeouts).toHaveLength(0);
  });
});
