/**
 * The balancer on its own: routes are plain objects, tries are functions that
 * answer when the test says so, and the clock and the dice are the test's, so
 * each rule (P2C, ejection, probation, retries elsewhere, the hedge delay) is
 * checked in isolation. No NATS.
 */
import { describe, expect, test } from "bun:test";
import type { Instance, Route } from "../../discovery/route-table.ts";
import type { Outcome } from "../attempt.ts";
import { Balancer, type HedgeSettings, type OutlierSettings, type Picker } from "./balancer.ts";

const reply = (status: number) =>
  ({ kind: "reply", status, msg: {}, headers: undefined }) as unknown as Outcome;
const OK = reply(200);
const TIMEOUT: Outcome = { kind: "timeout" };
const NOBODY: Outcome = { kind: "no-responders" };

const SERVICE = "mesh";
const SHARED = "svc.mesh.http";
const subjectOf = (id: string) => `svc.mesh.http.${id}`;
const inst = (id: string, version = "1.0.0"): Instance => ({ id, version, subject: subjectOf(id) });

function routeOf(instances: Instance[], service = SERVICE, subject = SHARED): Route {
  return {
    prefix: `/api/${service}`,
    service,
    subject,
    instances,
    publicRoutes: [],
    levels: {},
    versions: [],
  };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

type Setup = {
  outlier?: Partial<OutlierSettings>;
  hedge?: Partial<HedgeSettings>;
  random?: () => number;
};

/** A balancer on the test's clock, recording its hooks, and helpers to send tries through it. */
function setup({ outlier, hedge, random = () => 0.5 }: Setup = {}) {
  let clock = 10_000;
  const ejections: { service: string; id: string; ms: number; reason: string }[] = [];
  const gone: [string, string][] = [];
  const balancer = new Balancer(
    {
      outlier: { failures: 3, ejectMs: 1000, maxEjectMs: 10_000, maxEjectedPercent: 50, ...outlier },
      hedge: { enabled: true, minMs: 20, maxMs: 200, ...hedge },
    },
    {
      onEject: (service, id, ms, reason) => void ejections.push({ service, id, ms, reason }),
      onInstanceGone: (service, id) => void gone.push([service, id]),
    },
    () => clock,
    random,
  );

  /** A picker for one request to `route` (all its instances, or only `only`). */
  function picker(
    route: Route,
    {
      only,
      idempotent = true,
      current,
    }: { only?: string; idempotent?: boolean; current?: () => Route | null } = {},
  ): Picker {
    return balancer.picker(route, {
      select: (r) => (only === undefined ? r.instances : r.instances.filter((i) => i.id === only)),
      shared: route.subject,
      idempotent,
      current: current ?? (() => route),
    });
  }

  /** One try through `p` that takes `ms` of the test's clock and comes to `outcome`; returns the subject it went to. */
  async function send(p: Picker, outcome: Outcome, ms = 10): Promise<string> {
    let subject = "";
    await p.send(1000, (s) => {
      subject = s;
      clock += ms;
      return Promise.resolve(outcome);
    });
    return subject;
  }

  /** One try through `p` that stays in flight until `answer` is called. */
  function hold(p: Picker) {
    const d = deferred<Outcome>();
    let subject = "";
    const done = p.send(1000, (s) => {
      subject = s;
      return d.promise;
    });
    return {
      subject,
      /** Answers the try after `ms` of the test's clock and waits until the balancer booked it. */
      answer: async (outcome: Outcome, ms = 0) => {
        clock += ms;
        d.resolve(outcome);
        return done;
      },
    };
  }

  /** One try pinned to instance `id` (a picker with that instance as its only candidate). */
  const sendTo = (route: Route, id: string, outcome: Outcome, ms = 10, idempotent = true) =>
    send(picker(route, { only: id, idempotent }), outcome, ms);

  return {
    balancer,
    ejections,
    gone,
    picker,
    send,
    hold,
    sendTo,
    advance: (ms: number) => {
      clock += ms;
    },
    state: (id: string, service = SERVICE) => balancer.describe(service, id)?.state,
  };
}

describe("Balancer: power of two choices", () => {
  test("prefers the instance with the lower latency, and among equals the one with fewer tries in flight", async () => {
    const b = setup();
    const [a, c] = [inst("a"), inst("c")];
    const route = routeOf([a, c]);
    await b.sendTo(route, "a", OK, 50);
    await b.sendTo(route, "c", OK, 10);
    // `a` comes first among the candidates, so it wins every tie: `c` wins only by its lower cost.
    for (let i = 0; i < 5; i++) expect(await b.send(b.picker(route), OK, 10)).toBe(subjectOf("c"));

    // Equal latency: the one with fewer tries in flight wins.
    const b2 = setup();
    await b2.sendTo(route, "a", OK, 10);
    await b2.sendTo(route, "c", OK, 10);
    const onA = [b2.hold(b2.picker(route, { only: "a" })), b2.hold(b2.picker(route, { only: "a" }))];
    const onC = b2.hold(b2.picker(route, { only: "c" }));
    expect(b2.balancer.describe(SERVICE, "a")?.inFlight).toBe(2);
    expect(b2.balancer.describe(SERVICE, "c")?.inFlight).toBe(1);
    const next = b2.hold(b2.picker(route));
    expect(next.subject).toBe(subjectOf("c"));
    await Promise.all([...onA, onC, next].map((t) => t.answer(OK)));

    // A lower latency does not win when its tries in flight make it the dearer: 10 ms × (3+1) > 30 ms × 1.
    const b3 = setup();
    await b3.sendTo(route, "a", OK, 10);
    await b3.sendTo(route, "c", OK, 30);
    const held = [0, 1, 2].map(() => b3.hold(b3.picker(route, { only: "a" })));
    expect(b3.hold(b3.picker(route)).subject).toBe(subjectOf("c"));
    await Promise.all(held.map((t) => t.answer(OK)));
  });

  test("an instance whose tries pile up in flight (a hung one) stops being chosen", async () => {
    const b = setup();
    const route = routeOf([inst("a"), inst("c")]);
    await b.sendTo(route, "a", OK, 10);
    await b.sendTo(route, "c", OK, 10);
    // `a` wins the tie, then hangs: every later try goes to `c`, which keeps answering.
    const hung = b.hold(b.picker(route));
    expect(hung.subject).toBe(subjectOf("a"));
    const subjects: string[] = [];
    for (let i = 0; i < 20; i++) subjects.push(await b.send(b.picker(route), OK, 10));
    expect(subjects).toEqual(Array(20).fill(subjectOf("c")));
    expect(b.balancer.describe(SERVICE, "a")?.inFlight).toBe(1);
    await hung.answer(TIMEOUT);
  });

  test("a never-answered instance is not free: its tries in flight still count", async () => {
    const b = setup();
    const route = routeOf([inst("a"), inst("c")]);
    await b.sendTo(route, "c", OK, 10); // `c` answered in 10 ms; `a` never answered (no estimate)
    const held: ReturnType<typeof b.hold>[] = [];
    for (let i = 0; i < 100; i++) {
      const t = b.hold(b.picker(route));
      held.push(t);
      if (t.subject === subjectOf("c")) break;
    }
    // `a` took the first tries (an unknown instance is cheap), but not all of them.
    expect(held[0]!.subject).toBe(subjectOf("a"));
    expect(held.at(-1)!.subject).toBe(subjectOf("c"));
    expect(held.length).toBeLessThan(100);
    expect(b.balancer.describe(SERVICE, "a")?.inFlight).toBe(held.length - 1);
    await Promise.all(held.map((t) => t.answer(OK)));
    expect(b.balancer.describe(SERVICE, "a")?.inFlight).toBe(0);
  });
});

describe("Balancer: an avoided instance", () => {
  test("is tried again once its estimate has decayed below that of the one taking the load", async () => {
    const b = setup();
    const route = routeOf([inst("slow"), inst("fast")]);
    await b.sendTo(route, "slow", OK, 100);
    await b.sendTo(route, "fast", OK, 1);
    // The fast one answers every 100 ms; the slow one, not chosen, gets no new answer.
    const chosen: string[] = [];
    for (let i = 0; i < 400 && !chosen.includes(subjectOf("slow")); i++) {
      b.advance(100);
      chosen.push(await b.send(b.picker(route), OK, 1));
    }
    const firstSlow = chosen.indexOf(subjectOf("slow"));
    // 100 ms → below 1 ms takes ln(100) × 5 s ≈ 23 s: not before 20 s, but well within 40 s.
    expect(firstSlow).toBeGreaterThan(200);
    expect(firstSlow).toBeLessThan(400);
  });
});

describe("Balancer: outlier ejection", () => {
  test("consecutive failures (5xx, timeouts) eject after `failures`; a success in between resets the count", async () => {
    const b = setup({ outlier: { failures: 3 } });
    const route = routeOf([inst("a"), inst("c"), inst("d")]);
    await b.sendTo(route, "a", reply(503));
    await b.sendTo(route, "a", TIMEOUT);
    expect(b.balancer.describe(SERVICE, "a")?.failures).toBe(2);
    await b.sendTo(route, "a", OK);
    expect(b.balancer.describe(SERVICE, "a")?.failures).toBe(0);
    await b.sendTo(route, "a", reply(500));
    await b.sendTo(route, "a", TIMEOUT);
    expect(b.state("a")).toBe("healthy");
    expect(b.ejections).toEqual([]);
    await b.sendTo(route, "a", reply(502));
    expect(b.state("a")).toBe("ejected");
    expect(b.ejections).toEqual([{ service: SERVICE, id: "a", ms: 1000, reason: "502" }]);
    // A 4xx is the caller's doing, not the instance's.
    for (let i = 0; i < 5; i++) await b.sendTo(route, "c", reply(404));
    expect(b.state("c")).toBe("healthy");
    expect(b.balancer.describe(SERVICE, "c")?.failures).toBe(0);
    // An ejected instance is not chosen while others are healthy.
    for (let i = 0; i < 10; i++) expect(await b.send(b.picker(route), OK)).not.toBe(subjectOf("a"));
  });

  test("a try that found no responders ejects the instance at once and reports it gone", async () => {
    const b = setup({ outlier: { failures: 5 } });
    const route = routeOf([inst("a"), inst("c")]);
    await b.sendTo(route, "a", NOBODY);
    expect(b.state("a")).toBe("ejected");
    expect(b.ejections).toEqual([{ service: SERVICE, id: "a", ms: 1000, reason: "no-responders" }]);
    expect(b.gone).toEqual([[SERVICE, "a"]]);
    expect(b.state("c")).toBe("healthy");
    expect(b.gone).toHaveLength(1);
  });

  test("each ejection lasts longer (ejectMs × its count), up to maxEjectMs", async () => {
    const b = setup({ outlier: { failures: 1, ejectMs: 1000, maxEjectMs: 2500 } });
    const route = routeOf([inst("a"), inst("c")]);
    await b.sendTo(route, "a", TIMEOUT, 0);
    expect(b.ejections.map((e) => e.ms)).toEqual([1000]);
    b.advance(999);
    expect(b.state("a")).toBe("ejected");
    b.advance(1);
    expect(b.state("a")).toBe("probing");
    await b.sendTo(route, "a", TIMEOUT, 0);
    b.advance(1999);
    expect(b.state("a")).toBe("ejected");
    b.advance(1);
    await b.sendTo(route, "a", TIMEOUT, 0);
    b.advance(2500);
    await b.sendTo(route, "a", TIMEOUT, 0);
    expect(b.ejections.map((e) => e.ms)).toEqual([1000, 2000, 2500, 2500]);
    expect(b.balancer.describe(SERVICE, "a")?.ejections).toBe(4);
  });

  test("a long healthy stretch forgets past ejections: the next one is short again", async () => {
    const b = setup({ outlier: { failures: 1, ejectMs: 1000, maxEjectMs: 2500 } });
    const route = routeOf([inst("a"), inst("c")]);
    await b.sendTo(route, "a", TIMEOUT, 0);
    b.advance(1000);
    await b.sendTo(route, "a", TIMEOUT, 0); // probe failed: 2 s
    b.advance(2000);
    await b.sendTo(route, "a", OK, 0); // probe answered: healthy
    expect(b.state("a")).toBe("healthy");
    b.advance(60_000);
    await b.sendTo(route, "a", TIMEOUT, 0);
    expect(b.ejections.map((e) => e.ms)).toEqual([1000, 2000, 1000]);
  });

  test("at most maxEjectedPercent of the instances (at least one) are ejected at once", async () => {
    const b = setup({ outlier: { failures: 1, maxEjectedPercent: 50 } });
    const ids = ["a", "c", "d", "e"];
    const route = routeOf(ids.map((id) => inst(id)));
    for (const id of ids) await b.sendTo(route, id, TIMEOUT, 0);
    expect(ids.map((id) => b.state(id))).toEqual(["ejected", "ejected", "healthy", "healthy"]);
    expect(b.ejections.map((e) => e.id)).toEqual(["a", "c"]);
    // No responders is capped too (the instance is still reported gone).
    await b.sendTo(route, "d", NOBODY);
    expect(b.state("d")).toBe("healthy");
    expect(b.gone).toEqual([[SERVICE, "d"]]);
    // Once one ejection ends, another instance may take its place.
    b.advance(1000);
    expect(b.state("a")).toBe("probing");
    await b.sendTo(route, "e", TIMEOUT, 0);
    expect(b.state("e")).toBe("ejected");

    // 10 % of 3 instances rounds down to none: one may still be ejected.
    const b2 = setup({ outlier: { failures: 1, maxEjectedPercent: 10 } });
    const route2 = routeOf([inst("a"), inst("c"), inst("d")]);
    for (const id of ["a", "c", "d"]) await b2.sendTo(route2, id, TIMEOUT, 0);
    expect(["a", "c", "d"].map((id) => b2.state(id))).toEqual(["ejected", "healthy", "healthy"]);
  });
});

describe("Balancer: probation", () => {
  async function ejectedThenProbing() {
    // Three failures in a row eject; `a` is ejected at once (nobody on its subject), with one failure.
    const b = setup({ outlier: { failures: 3, ejectMs: 1000, maxEjectMs: 10_000 } });
    const route = routeOf([inst("a"), inst("c")]);
    await b.sendTo(route, "c", OK, 10);
    await b.sendTo(route, "a", NOBODY, 0);
    expect(b.state("a")).toBe("ejected");
    b.advance(1000);
    expect(b.state("a")).toBe("probing");
    return { b, route };
  }

  test("an instance on probation takes only requests that may be retried", async () => {
    const { b, route } = await ejectedThenProbing();
    // A never-sampled instance on probation is the cheapest, yet a POST never goes there.
    for (let i = 0; i < 5; i++)
      expect(await b.send(b.picker(route, { idempotent: false }), OK, 10)).toBe(subjectOf("c"));
    expect(b.state("a")).toBe("probing");
    expect(await b.send(b.picker(route, { idempotent: true }), OK, 10)).toBe(subjectOf("a"));
  });

  test("an instance on probation takes one try at a time", async () => {
    const { b, route } = await ejectedThenProbing();
    const probe = b.hold(b.picker(route));
    expect(probe.subject).toBe(subjectOf("a"));
    for (let i = 0; i < 5; i++) expect(await b.send(b.picker(route), OK, 10)).toBe(subjectOf("c"));
    expect(b.balancer.describe(SERVICE, "a")?.inFlight).toBe(1);
    await probe.answer(OK, 10);
  });

  test("a probe's success returns the instance to the rotation", async () => {
    const { b, route } = await ejectedThenProbing();
    const probe = b.hold(b.picker(route));
    expect(probe.subject).toBe(subjectOf("a"));
    await probe.answer(OK, 1);
    expect(b.state("a")).toBe("healthy");
    expect(b.balancer.describe(SERVICE, "a")).toMatchObject({ failures: 0, ejectedUntil: null });
    // Healthy again (and the faster one): it takes POSTs, several at a time.
    const posts = [0, 1].map(() => b.hold(b.picker(route, { idempotent: false })));
    expect(posts.map((t) => t.subject)).toEqual([subjectOf("a"), subjectOf("a")]);
    await Promise.all(posts.map((t) => t.answer(OK, 1)));
  });

  test("a probe's failure ejects the instance again, for longer", async () => {
    const { b, route } = await ejectedThenProbing();
    const probe = b.hold(b.picker(route));
    expect(probe.subject).toBe(subjectOf("a"));
    await probe.answer(reply(503), 5);
    // Its second failure only, yet on probation one is enough.
    expect(b.balancer.describe(SERVICE, "a")?.failures).toBe(2);
    expect(b.state("a")).toBe("ejected");
    expect(b.ejections.map((e) => e.ms)).toEqual([1000, 2000]);
    b.advance(1999);
    expect(b.state("a")).toBe("ejected");
    b.advance(1);
    expect(b.state("a")).toBe("probing");
  });
});

describe("Picker", () => {
  test("a retry never goes back to an instance the request already tried while another is available", async () => {
    for (const r of [0, 0.3, 0.6, 0.99]) {
      const b = setup({ random: () => r, outlier: { failures: 10 } });
      const route = routeOf(["a", "c", "d", "e"].map((id) => inst(id)));
      const p = b.picker(route);
      const subjects: string[] = [];
      for (let i = 0; i < 4; i++) subjects.push(await b.send(p, reply(503), 1));
      expect(new Set(subjects).size).toBe(4);
    }
  });

  test("a retry goes elsewhere even when the instance tried first is by far the cheapest", async () => {
    const b = setup({ outlier: { failures: 10 } });
    const route = routeOf([inst("a"), inst("c")]);
    await b.sendTo(route, "a", OK, 1);
    await b.sendTo(route, "c", OK, 100);
    const p = b.picker(route);
    expect(await b.send(p, reply(503), 1)).toBe(subjectOf("a"));
    expect(await b.send(p, reply(503), 1)).toBe(subjectOf("c"));
    // Every instance tried: back to the best of those not ejected.
    expect(await b.send(p, OK, 1)).toBe(subjectOf("a"));
  });

  test("a hedge goes to another instance than the try still in flight, and only when one may take it", async () => {
    const b = setup({ outlier: { failures: 1 } });
    const route = routeOf([inst("a"), inst("c")]);
    const p = b.picker(route);
    const first = b.hold(p);
    expect(p.canHedge()).toBe(true);
    const hedge = b.hold(p);
    expect(hedge.subject).not.toBe(first.subject);
    await Promise.all([first.answer(OK, 5), hedge.answer(OK, 5)]);

    // The other instance is ejected: nowhere new for a hedge to go.
    await b.sendTo(route, "c", TIMEOUT, 0);
    expect(b.state("c")).toBe("ejected");
    const p2 = b.picker(route);
    const only = b.hold(p2);
    expect(only.subject).toBe(subjectOf("a"));
    expect(p2.canHedge()).toBe(false);
    await only.answer(OK, 5);
  });

  test("the second try re-reads the route: an instance added after the first try can take it", async () => {
    const b = setup();
    const first = routeOf([inst("a")]);
    let now = first;
    const p = b.picker(first, { current: () => now });
    expect(p.candidates).toBe(1);
    expect(await b.send(p, reply(503))).toBe(subjectOf("a"));
    now = routeOf([inst("a"), inst("c")]);
    expect(await b.send(p, OK)).toBe(subjectOf("c"));
    expect(p.candidates).toBe(2);
    expect(b.balancer.describe(SERVICE, "c")).toMatchObject({ state: "healthy", inFlight: 0, failures: 0 });
  });

  test("instances without a subject of their own are called on the shared subject", async () => {
    const b = setup();
    const route = routeOf([{ id: "x1", version: "1.0.0", subject: null }], "foreign", "svc.foreign.http");
    const p = b.picker(route);
    expect(p.balanced).toBe(false);
    expect(p.canHedge()).toBe(false);
    expect(await b.send(p, reply(503))).toBe("svc.foreign.http");
    expect(await b.send(p, OK)).toBe("svc.foreign.http");
    expect(b.balancer.describe("foreign", "x1")).toBeUndefined();
  });
});

describe("Balancer.allFailing", () => {
  test("false while one instance is healthy, true once every instance failed or was ejected", async () => {
    const b = setup({ outlier: { failures: 2 } });
    const route = routeOf([inst("a"), inst("c")]);
    b.picker(route); // the balancer learns the instances
    expect(b.balancer.allFailing(SERVICE)).toBe(false);
    await b.sendTo(route, "a", reply(503));
    expect(b.balancer.allFailing(SERVICE)).toBe(false);
    await b.sendTo(route, "c", TIMEOUT);
    expect(b.balancer.allFailing(SERVICE)).toBe(true);
    await b.sendTo(route, "c", TIMEOUT);
    expect(b.state("c")).toBe("ejected");
    expect(b.balancer.allFailing(SERVICE)).toBe(true);
    await b.sendTo(route, "a", OK);
    expect(b.balancer.allFailing(SERVICE)).toBe(false);
    // An instance on probation has not shown it works yet.
    await b.sendTo(route, "a", TIMEOUT);
    b.advance(1000);
    expect(b.state("c")).toBe("probing");
    expect(b.balancer.allFailing(SERVICE)).toBe(true);
  });

  test("true for a service whose instances have no subject of their own (NATS picks, every failure counts)", async () => {
    const b = setup();
    const route = routeOf([{ id: "x1", version: "1.0.0", subject: null }], "foreign", "svc.foreign.http");
    expect(await b.send(b.picker(route), OK)).toBe("svc.foreign.http");
    expect(b.balancer.allFailing("foreign")).toBe(true);
    // A kit service is balanced; one the edge never called is not.
    b.picker(routeOf([inst("a")]));
    expect(b.balancer.allFailing(SERVICE)).toBe(false);
    expect(b.balancer.allFailing("unknown")).toBe(true);
  });
});

describe("Balancer.hedgeDelayMs", () => {
  async function observe(b: ReturnType<typeof setup>, route: Route, latencies: number[]) {
    for (const ms of latencies) await b.send(b.picker(route, { only: "a" }), OK, ms);
  }

  test("is maxMs until the service has enough samples", async () => {
    const b = setup({ hedge: { minMs: 20, maxMs: 200 } });
    const route = routeOf([inst("a"), inst("c")]);
    expect(b.balancer.hedgeDelayMs(SERVICE)).toBe(200);
    await observe(b, route, Array(19).fill(50));
    expect(b.balancer.hedgeDelayMs(SERVICE)).toBe(200);
    await observe(b, route, [50]);
    expect(b.balancer.hedgeDelayMs(SERVICE)).toBe(50);
  });

  test("then is the p95 of the latencies observed, clamped to [minMs, maxMs]", async () => {
    const hedge = { minMs: 20, maxMs: 200 };
    const route = routeOf([inst("a"), inst("c")]);

    // 64 samples: the slowest 3 (under 5 %) do not move the p95; a 4th does.
    const b = setup({ hedge });
    await observe(b, route, [...Array(30).fill(30), 150, 150, 150, ...Array(31).fill(30)]);
    expect(b.balancer.hedgeDelayMs(SERVICE)).toBe(30);
    const b2 = setup({ hedge });
    await observe(b2, route, [...Array(30).fill(30), 150, 150, 150, 150, ...Array(30).fill(30)]);
    expect(b2.balancer.hedgeDelayMs(SERVICE)).toBe(150);

    // A fractional p95 is rounded up.
    const b3 = setup({ hedge });
    await observe(b3, route, Array(32).fill(42.3));
    expect(b3.balancer.hedgeDelayMs(SERVICE)).toBe(43);

    const fast = setup({ hedge });
    await observe(fast, route, Array(32).fill(5));
    expect(fast.balancer.hedgeDelayMs(SERVICE)).toBe(20);

    const slow = setup({ hedge });
    await observe(slow, route, Array(32).fill(1000));
    expect(slow.balancer.hedgeDelayMs(SERVICE)).toBe(200);
  });

  test("only answers count: 5xx and timeouts are not latency samples", async () => {
    const b = setup({ hedge: { minMs: 20, maxMs: 200 }, outlier: { failures: 1000 } });
    const route = routeOf([inst("a"), inst("c")]);
    for (let i = 0; i < 40; i++) await b.send(b.picker(route, { only: "a" }), reply(503), 100);
    expect(b.balancer.hedgeDelayMs(SERVICE)).toBe(200);
    await observe(b, route, Array(20).fill(60));
    expect(b.balancer.hedgeDelayMs(SERVICE)).toBe(60);
  });
});

describe("Balancer.describe", () => {
  test("reports state, ejectedUntil, inFlight, latencyMs, failures and ejections", async () => {
    const b = setup({ outlier: { failures: 2, ejectMs: 1000 } });
    const route = routeOf([inst("a"), inst("c")]);
    b.picker(route);
    expect(b.balancer.describe(SERVICE, "a")).toEqual({
      state: "healthy",
      ejectedUntil: null,
      inFlight: 0,
      latencyMs: null,
      failures: 0,
      ejections: 0,
    });
    expect(b.balancer.describe(SERVICE, "nope")).toBeUndefined();
    expect(b.balancer.describe("unknown", "a")).toBeUndefined();

    await b.sendTo(route, "a", OK, 40);
    const held = b.hold(b.picker(route, { only: "a" }));
    expect(b.balancer.describe(SERVICE, "a")).toMatchObject({ inFlight: 1, latencyMs: 40 });
    // Shown as of its last answer: an idle instance does not read as 0 ms (the comparison decays, not this).
    b.advance(5000);
    expect(b.balancer.describe(SERVICE, "a")?.latencyMs).toBe(40);
    await held.answer(reply(503), 0);
    await b.sendTo(route, "a", TIMEOUT, 300);
    const before = Date.now();
    const d = b.balancer.describe(SERVICE, "a")!;
    expect(d).toMatchObject({ state: "ejected", inFlight: 0, failures: 2, ejections: 1, latencyMs: null });
    const until = Date.parse(d.ejectedUntil!);
    expect(until).toBeGreaterThanOrEqual(before + 1000 - 5);
    expect(until).toBeLessThanOrEqual(Date.now() + 1000 + 5);

    b.advance(1000);
    expect(b.balancer.describe(SERVICE, "a")).toMatchObject({
      state: "probing",
      ejectedUntil: null,
      failures: 2,
    });
  });

  test("the latency estimate: a slower answer counts at once, a faster one pulls it down over time", async () => {
    const b = setup();
    const route = routeOf([inst("a"), inst("c")]);
    await b.sendTo(route, "a", OK, 10);
    await b.sendTo(route, "a", OK, 100);
    expect(b.balancer.describe(SERVICE, "a")?.latencyMs).toBe(100);
    await b.sendTo(route, "a", OK, 10);
    const after = b.balancer.describe(SERVICE, "a")!.latencyMs!;
    expect(after).toBeLessThan(100);
    expect(after).toBeGreaterThan(90); // one fast answer 10 ms later barely moves it
    b.advance(10_000);
    await b.sendTo(route, "a", OK, 10);
    expect(b.balancer.describe(SERVICE, "a")!.latencyMs!).toBeLessThan(20);
  });
});
