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
import {
  type Call,
  isIdempotent,
  Retrier,
  type RetryHooks,
  type RetryOptions,
  retryReason,
} from "./retry.ts";

const reply = (status: number) => ({ kind: "reply", status, msg: {} }) as unknown as Outcome;

function retrier(options: Partial<RetryOptions> = {}, failures = 1000, hooks: RetryHooks = {}) {
  const breakers = new Breakers<Outcome>(
    { failures, halfOpenAfterMs: 60_000 },
    (o) => o.kind !== "reply" || o.status >= 500,
  );
  const retries: string[] = [];
  const hedges: [string, number][] = [];
  const exhausted: string[] = [];
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
    {
      onRetry: (_s, reason) => void retries.push(reason),
      onHedge: (service, afterMs) => void hedges.push([service, afterMs]),
      onBudgetExhausted: (service) => void exhausted.push(service),
      ...hooks,
    },
  );
  return { r, breakers, retries, hedges, exhausted };
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

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * A send whose first try stays unanswered until the test answers it; the
 * later tries answer at once with `then` in turn (200 past its end). Records
 * when each try went out.
 */
function slowFirst(...then: Outcome[]) {
  const first = deferred<Outcome>();
  const t0 = performance.now();
  const sentAt: number[] = [];
  return {
    first,
    sentAt,
    send(_ms: number): Promise<Outcome> {
      sentAt.push(performance.now() - t0);
      if (sentAt.length === 1) return first.promise;
      return Promise.resolve(then[sentAt.length - 2] ?? reply(200));
    },
  };
}

/** One idempotent call to service `a` with a 3 s deadline, its tries by `send`, hedged as `hedge` says. */
async function hedgedCall(
  r: Retrier,
  send: Call["send"],
  hedge: NonNullable<Call["hedge"]>,
): Promise<Outcome> {
  const deadline = new Deadline(3000);
  try {
    return await r.call({ service: "a", idempotent: true, deadline, send, hedge });
  } finally {
    deadline.dispose();
  }
}

describe("hedging", () => {
  test("a try with no answer after delayMs gets a hedge beside it, and the hedge's good answer wins", async () => {
    const { r, hedges, retries } = retrier();
    const s = slowFirst(reply(201));
    const outcome = await hedgedCall(r, s.send, { delayMs: 20, possible: () => true });
    // The first try has not answered (the test never answered it): the hedge's 201 is the outcome.
    expect(outcome).toMatchObject({ kind: "reply", status: 201 });
    expect(s.sentAt).toHaveLength(2);
    expect(s.sentAt[0]!).toBeLessThan(15);
    expect(s.sentAt[1]!).toBeGreaterThanOrEqual(19); // after the delay (timers may fire a hair early)
    expect(hedges).toEqual([["a", 20]]);
    expect(retries).toEqual([]); // a hedge is not a retry
    s.first.resolve(reply(200)); // the first try ends on its own; nothing waits for it
  });

  test("the first answer that needs no retry wins, not the first to come", async () => {
    const s = slowFirst(reply(503));
    const seen: number[] = [];
    const { r } = retrier({ maxAttempts: 2 }, 1000, {
      // The first try answers only once the hedge's 503 is in.
      onAttempt: (_s, o) => {
        if (o.kind === "reply") seen.push(o.status);
        if (o.kind === "reply" && o.status === 503) s.first.resolve(reply(200));
      },
    });
    const outcome = await hedgedCall(r, s.send, { delayMs: 5, possible: () => true });
    expect(seen).toEqual([503, 200]);
    expect(outcome).toMatchObject({ kind: "reply", status: 200 });
    expect(s.sentAt).toHaveLength(2);
  });

  test("no hedge when possible() says no other instance may take it", async () => {
    const { r, hedges } = retrier();
    const s = slowFirst(reply(201));
    let asked = 0;
    const outcome = await hedgedCall(r, s.send, {
      delayMs: 5,
      possible: () => {
        asked += 1;
        // Asked once the delay passed: the first try may answer now.
        s.first.resolve(reply(200));
        return false;
      },
    });
    expect(asked).toBe(1);
    expect(outcome).toMatchObject({ kind: "reply", status: 200 });
    expect(s.sentAt).toHaveLength(1);
    expect(hedges).toEqual([]);
  });

  test("no hedge when the first try answers within the delay, and its timer is cleared", async () => {
    const DELAY = 987; // a value only the hedge timer uses
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    const hedgeTimers: unknown[] = [];
    const cleared: unknown[] = [];
    globalThis.setTimeout = ((fn: () => void, ms?: number, ...args: unknown[]) => {
      const t = realSet(fn, ms, ...args);
      if (ms === DELAY) hedgeTimers.push(t);
      return t;
    }) as typeof setTimeout;
    globalThis.clearTimeout = ((t: Parameters<typeof clearTimeout>[0]) => {
      cleared.push(t);
      realClear(t);
    }) as typeof clearTimeout;
    const { r, hedges } = retrier();
    const s = script(reply(200));
    let asked = 0;
    const deadline = new Deadline(3000);
    let outcome: Outcome;
    try {
      outcome = await r.call({
        service: "a",
        idempotent: true,
        deadline,
        send: s.send,
        hedge: { delayMs: DELAY, possible: () => ++asked > 0 },
      });
    } finally {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
      deadline.dispose();
    }
    expect(outcome).toMatchObject({ kind: "reply", status: 200 });
    expect(s.timeouts).toHaveLength(1);
    expect(asked).toBe(0);
    expect(hedges).toEqual([]);
    // The hedge timer was armed, and cleared once the answer came: nothing keeps the process alive.
    expect(hedgeTimers).toHaveLength(1);
    expect(cleared).toContain(hedgeTimers[0]);
  });

  test("a hedge counts as an attempt: with maxAttempts 2 a failed hedged pair gets no third try", async () => {
    for (const [maxAttempts, tries] of [
      [2, 2],
      [3, 3],
    ] as const) {
      const s = slowFirst(reply(503));
      const { r, hedges, retries } = retrier({ maxAttempts }, 1000, {
        // The first try times out once the hedge's 503 is in: both tries of the pair failed.
        onAttempt: (_s, o) => {
          if (o.kind === "reply" && o.status === 503) s.first.resolve({ kind: "timeout" });
        },
      });
      const outcome = await hedgedCall(r, s.send, { delayMs: 5, possible: () => true });
      expect(hedges).toEqual([["a", 5]]);
      expect(s.sentAt).toHaveLength(tries);
      if (maxAttempts === 2) {
        expect(retryReason(outcome, true)).not.toBeNull(); // the pair's failure, not retried
        expect(retries).toEqual([]);
      } else {
        expect(outcome).toMatchObject({ kind: "reply", status: 200 }); // the third try, a retry
        expect(retries).toHaveLength(1);
      }
    }
  });

  test("a hedge is paid from the retry budget: none with an empty budget", async () => {
    const { r, hedges } = retrier({ budget: { ratio: 0, minRetries: 0, windowMs: 10_000 } });
    const s = slowFirst();
    let asked = 0;
    // A slow service: its answer comes well after the hedge delay.
    const answered = new Promise<void>((done) =>
      setTimeout(() => {
        s.first.resolve(reply(200));
        done();
      }, 40),
    );
    const outcome = await hedgedCall(r, s.send, {
      delayMs: 5,
      possible: () => {
        asked += 1;
        return true;
      },
    });
    await answered;
    expect(outcome).toMatchObject({ kind: "reply", status: 200 });
    expect(s.sentAt).toHaveLength(1);
    expect(hedges).toEqual([]);
    expect(asked).toBe(0);
  });

  test("a hedge uses up the retry budget: with room for one retry, a failed hedged pair is not retried", async () => {
    const s = slowFirst(reply(503));
    const { r, hedges, retries, exhausted } = retrier(
      { maxAttempts: 3, budget: { ratio: 0, minRetries: 1, windowMs: 10_000 } },
      1000,
      {
        onAttempt: (_s, o) => {
          if (o.kind === "reply" && o.status === 503) s.first.resolve({ kind: "timeout" });
        },
      },
    );
    const outcome = await hedgedCall(r, s.send, { delayMs: 5, possible: () => true });
    expect(hedges).toEqual([["a", 5]]);
    expect(s.sentAt).toHaveLength(2);
    expect(retryReason(outcome, true)).not.toBeNull();
    expect(retries).toEqual([]);
    expect(exhausted).toEqual(["a"]);
  });
});
