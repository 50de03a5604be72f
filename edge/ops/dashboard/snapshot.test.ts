import { describe, expect, test } from "bun:test";
import type { InstanceRecord, ServiceRecord } from "./poller.ts";
import { readServiceData, type ServiceData } from "./service-data.ts";
import { buildSnapshot, type RouteCircuit, type SnapshotInput } from "./snapshot.ts";
import type { InstanceBalance } from "./types.ts";
import type { WindowFigures } from "./window.ts";

const NOW = Date.parse("2026-05-01T12:00:00Z");
const QUIET: WindowFigures = {
  requests: 0,
  requestsPerSecond: 0,
  errorRate: null,
  averageMs: null,
  p99Ms: null,
};

function instance(name: string, id: string, extra: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    id,
    name,
    version: "1.0.0",
    description: `${name} service`,
    metadata: { "http.prefix": `/api/${name}` },
    endpoints: [{ name: "http", subject: `svc.${name}.http`, queue_group: "q" }],
    started: "2026-05-01T11:00:00Z",
    stats: [
      {
        name: "http",
        subject: `svc.${name}.http`,
        num_requests: 7,
        num_errors: 1,
        processing_time: 0,
        average_processing_time: 0,
      },
    ],
    data: null,
    missed: 0,
    lastSeen: NOW,
    counters: new Map(),
    ...extra,
  };
}

function service(
  name: string,
  instances: InstanceRecord[],
  extra: Partial<ServiceRecord> = {},
): ServiceRecord {
  return {
    name,
    instances: new Map(instances.map((i) => [i.id, i])),
    lost: [],
    lastSeen: NOW,
    last: null,
    ...extra,
  };
}

function snapshot(services: ServiceRecord[], over: Partial<SnapshotInput> = {}) {
  return buildSnapshot({
    services,
    routes: [],
    reachable: true,
    windowSeconds: 10,
    edgeFigures: () => QUIET,
    serviceFigures: () => QUIET,
    now: NOW,
    ...over,
  });
}

const route = (
  service: string,
  circuit: RouteCircuit["circuit"] = "closed",
  instances: RouteCircuit["instances"] = [],
): RouteCircuit => ({
  prefix: `/api/${service}`,
  service,
  circuit,
  instances,
});

const HEALTHY: InstanceBalance = {
  state: "healthy",
  ejectedUntil: null,
  inFlight: 1,
  latencyMs: 2.5,
  failures: 0,
  ejections: 0,
};
/** Ejected until `untilMs` after NOW. */
const ejected = (untilMs: number): InstanceBalance => ({
  state: "ejected",
  ejectedUntil: new Date(NOW + untilMs).toISOString(),
  inFlight: 0,
  latencyMs: null,
  failures: 3,
  ejections: 1,
});
const PROBING: InstanceBalance = { ...HEALTHY, state: "probing", inFlight: 0, latencyMs: null, ejections: 1 };

/** The route of `runs` with these instances' balancer states (null: never called). */
const balanced = (...balances: (InstanceBalance | null)[]): RouteCircuit =>
  route(
    "runs",
    "closed",
    balances.map((balance, n) => ({ id: String.fromCharCode(97 + n), version: "1.0.0", balance })),
  );
const runsOf = (n: number) =>
  service(
    "runs",
    Array.from({ length: n }, (_, i) => instance("runs", String.fromCharCode(97 + i))),
  );

describe("buildSnapshot: status", () => {
  const failing: WindowFigures = {
    requests: 20,
    requestsPerSecond: 2,
    errorRate: 0.25,
    averageMs: 3,
    p99Ms: 9,
  };
  const cases: {
    name: string;
    records: ServiceRecord[];
    input?: Partial<SnapshotInput>;
    status: string;
    reason?: RegExp;
  }[] = [
    {
      name: "every instance answers",
      records: [service("runs", [instance("runs", "a")])],
      status: "healthy",
    },
    {
      name: "no instance left",
      records: [service("runs", [])],
      status: "down",
      reason: /no instance answers/,
    },
    {
      name: "only in the route table",
      records: [],
      input: { routes: [route("runs")] },
      status: "down",
      reason: /routed by the edge/,
    },
    {
      name: "one instance missed a poll",
      records: [service("runs", [instance("runs", "a"), instance("runs", "b", { missed: 1 })])],
      status: "degraded",
      reason: /1 of 2 instances not answering/,
    },
    {
      name: "an instance was lost just now",
      records: [
        service("runs", [instance("runs", "a")], { lost: [{ id: "b", version: "1.0.0", at: NOW - 5000 }] }),
      ],
      status: "degraded",
      reason: /^1 instance stopped answering in the last 30 s$/,
    },
    {
      name: "one of three instances is ejected",
      records: [runsOf(3)],
      input: { routes: [balanced(HEALTHY, ejected(30_000), HEALTHY)] },
      status: "degraded",
      reason: /^1 of 3 instances ejected \(until 12:00:30 UTC\)$/,
    },
    {
      name: "two instances are ejected, back at different times",
      records: [runsOf(3)],
      input: { routes: [balanced(ejected(90_000), ejected(30_000), HEALTHY)] },
      status: "degraded",
      reason: /^2 of 3 instances ejected \(until 12:00:30–12:01:30 UTC\)$/,
    },
    {
      // Probation ends with its first answered try; an idle service may stay there, so it is no fault.
      name: "an instance is on probation, another never called",
      records: [runsOf(3)],
      input: { routes: [balanced(HEALTHY, PROBING, null)] },
      status: "healthy",
    },
    {
      name: "its circuit is open",
      records: [service("runs", [instance("runs", "a")])],
      input: { routes: [route("runs", "open")] },
      status: "degraded",
      reason: /circuit open/,
    },
    {
      name: "a quarter of its requests fail at the edge",
      records: [service("runs", [instance("runs", "a")])],
      input: { edgeFigures: () => failing },
      status: "degraded",
      reason: /25 % of its requests failed at the edge/,
    },
    {
      name: "its outbox is stuck",
      records: [
        service("runs", [
          instance("runs", "a", { data: { outbox: { backlog: 4, oldestAgeMs: 90_000 }, consumers: [] } }),
        ]),
      ],
      status: "degraded",
      reason: /oldest unsent event is 90 s old/,
    },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.status}`, () => {
      const [view] = snapshot(c.records, c.input).services;
      expect(view?.status).toBe(c.status as never);
      if (c.reason) expect(view?.reasons.join("; ")).toMatch(c.reason);
      else expect(view?.reasons).toEqual([]);
    });
  }
});

describe("buildSnapshot: instances as the balancer sees them", () => {
  test("each instance gets its balance by id; null when the edge has not called it or the route does not list it", () => {
    const routes = [
      route("runs", "closed", [
        { id: "b", version: "1.0.0", balance: ejected(30_000) },
        { id: "a", version: "1.0.0", balance: HEALTHY },
        { id: "c", version: "1.0.0", balance: null },
      ]),
      // The same instance under a second prefix: one state, whichever route lists it.
      { ...route("runs", "closed", [{ id: "c", version: "1.0.0", balance: PROBING }]), prefix: "/api/runs2" },
    ];
    const [runs] = snapshot([runsOf(4)], { routes }).services;
    expect(runs?.instances).toEqual([
      { id: "a", version: "1.0.0", started: "2026-05-01T11:00:00Z", missed: 0, balance: HEALTHY },
      { id: "b", version: "1.0.0", started: "2026-05-01T11:00:00Z", missed: 0, balance: ejected(30_000) },
      { id: "c", version: "1.0.0", started: "2026-05-01T11:00:00Z", missed: 0, balance: PROBING },
      // Answers $SRV, but not (yet) in the route table.
      { id: "d", version: "1.0.0", started: "2026-05-01T11:00:00Z", missed: 0, balance: null },
    ]);
    expect(runs?.reasons).toEqual(["1 of 4 instances ejected (until 12:00:30 UTC)"]);
  });

  test("a foreign service without a route (or instance subjects) has no balance", () => {
    const [greeter] = snapshot([service("greeter", [instance("greeter", "g1", { metadata: {} })])]).services;
    expect(greeter?.instances.map((i) => i.balance)).toEqual([null]);
    expect(greeter?.status).toBe("healthy");
  });
});

describe("buildSnapshot: figures and topology", () => {
  const runsData: ServiceData = { outbox: { backlog: 2, oldestAgeMs: 40 }, consumers: [] };
  const statsData: ServiceData = {
    outbox: { backlog: 0, oldestAgeMs: null },
    consumers: [
      {
        name: "stats-update-totals",
        stream: "EVENTS_RUNS",
        pending: 3,
        ackPending: 1,
        redelivered: 0,
        dead: 0,
      },
    ],
  };

  test("outbox, consumers, endpoints, circuit; edge → services → streams → consumers", () => {
    const snap = snapshot(
      [
        service("runs", [
          instance("runs", "r1", { data: runsData }),
          instance("runs", "r2", { data: runsData }),
        ]),
        service("stats", [
          instance("stats", "s1", {
            data: statsData,
            endpoints: [
              { name: "http", subject: "svc.stats.http" },
              { name: "http-instance", subject: "svc.stats.http.s1", metadata: { kind: "http-instance" } },
              { name: "weeklyTotals", subject: "svc.stats.rpc.weeklyTotals", metadata: { kind: "rpc" } },
            ],
          }),
        ]),
        // A foreign service: no HTTP prefix, no kit figures.
        service("greeter", [
          instance("greeter", "g1", { metadata: {}, endpoints: [{ name: "hello", subject: "greet.hello" }] }),
        ]),
      ],
      { routes: [route("runs"), route("stats", "half-open")] },
    );
    const [greeter, runs, stats] = snap.services;
    expect(runs).toMatchObject({
      prefix: "/api/runs",
      circuit: "closed",
      stream: "EVENTS_RUNS",
      // Two instances sharing one outbox report the same backlog: it is not doubled.
      outbox: { backlog: 2, oldestAgeMs: 40 },
      endpoints: [{ name: "http", kind: "http", requests: 14, errors: 2 }],
    });
    expect(stats?.consumers).toEqual(statsData.consumers);
    expect(stats?.stream).toBe("EVENTS_STATS");
    expect(stats?.endpoints.map((e) => `${e.name}:${e.kind}`)).toEqual([
      "http:http",
      "http-instance:http-instance",
      "weeklyTotals:rpc",
    ]);
    // Each instance has its own subject: the dashboard shows the pattern.
    expect(stats?.endpoints[1]?.subject).toBe("svc.stats.http.<instance id>");
    expect(stats?.status).toBe("degraded"); // half-open circuit
    expect(greeter).toMatchObject({
      prefix: null,
      circuit: null,
      outbox: null,
      stream: null,
      status: "healthy",
    });

    const { nodes, links } = snap.topology;
    expect(nodes.map((n) => n.id)).toEqual([
      "edge",
      "service:greeter",
      "service:runs",
      "service:stats",
      "stream:EVENTS_RUNS",
      "stream:EVENTS_STATS",
      "consumer:EVENTS_RUNS/stats-update-totals",
    ]);
    expect(links).toEqual([
      { from: "edge", to: "service:runs" },
      { from: "edge", to: "service:stats" },
      { from: "service:runs", to: "stream:EVENTS_RUNS" },
      { from: "service:stats", to: "stream:EVENTS_STATS" },
      { from: "stream:EVENTS_RUNS", to: "consumer:EVENTS_RUNS/stats-update-totals" },
    ]);
    expect(nodes.find((n) => n.kind === "consumer")).toMatchObject({
      label: "stats-update-totals (stats)",
      pending: 3,
    });
  });
});

test("a service that is down keeps what it last said: prefix, endpoints, consumers (in the topology too)", () => {
  const data: ServiceData = {
    outbox: null,
    consumers: [
      {
        name: "stats-update-totals",
        stream: "EVENTS_RUNS",
        pending: 5,
        ackPending: 0,
        redelivered: 0,
        dead: 0,
      },
    ],
  };
  const gone = service("stats", [], { last: instance("stats", "s1", { data }), lastSeen: NOW - 2000 });
  const snap = snapshot([gone], { routes: [route("stats")] });
  expect(snap.services[0]).toMatchObject({
    status: "down",
    instances: [],
    prefix: "/api/stats",
    consumers: data.consumers,
  });
  expect(snap.topology.nodes.find((n) => n.kind === "consumer")).toMatchObject({
    status: "down",
    pending: 5,
  });
});

describe("buildSnapshot: tasks", () => {
  const queue = (depth: number, oldestAgeMs: number | null) => ({
    stream: "TASKS_STATS",
    pending: Math.max(0, depth - 1),
    inProgress: Math.min(depth, 1),
    oldestAgeMs,
    tasks: [
      { task: "stats/report.monthly", depth, oldestAgeMs },
      { task: "stats/report.season", depth: 0, oldestAgeMs: null },
    ],
  });
  const stats = (depth: number, oldestAgeMs: number | null, lastSeen = NOW): InstanceRecord =>
    instance("stats", `s-${depth}`, {
      lastSeen,
      data: {
        outbox: null,
        consumers: [],
        tasks: { queue: queue(depth, oldestAgeMs), submits: ["stats/report.monthly"], sentPending: 1 },
      },
    });
  const plans = instance("plans", "p1", {
    data: {
      outbox: null,
      consumers: [],
      tasks: { queue: null, submits: ["stats/report.season", "runs/recalculate"], sentPending: 2 },
    },
  });

  test("the owner's queue is a node with its depth and oldest age; each requester links to the queue of each owner it submits to", () => {
    const snap = snapshot([
      // Two instances read the one queue: the freshest reading wins.
      service("stats", [stats(2, 1500, NOW - 1000), stats(3, 2500)]),
      service("plans", [plans]),
    ]);
    const [plansView, statsView] = snap.services;
    expect(statsView?.tasks).toEqual({
      queue: queue(3, 2500),
      submits: ["stats/report.monthly"],
      sentPending: 1,
    });
    expect(plansView?.tasks?.queue).toBeNull();
    const queues = snap.topology.nodes.filter((n) => n.kind === "queue");
    expect(queues).toEqual([
      {
        id: "queue:TASKS_STATS",
        kind: "queue",
        label: "TASKS_STATS (stats)",
        status: "healthy",
        depth: 3,
        oldestAgeMs: 2500,
      },
      // runs reports nothing (not running here): its queue is drawn, depth unknown.
      { id: "queue:TASKS_RUNS", kind: "queue", label: "TASKS_RUNS (runs)", depth: null, oldestAgeMs: null },
    ]);
    expect(snap.topology.links.filter((l) => l.kind === "task")).toEqual([
      { from: "service:plans", to: "queue:TASKS_RUNS", kind: "task" },
      { from: "service:plans", to: "queue:TASKS_STATS", kind: "task" },
      { from: "service:stats", to: "queue:TASKS_STATS", kind: "task" },
    ]);
  });

  test("a task waiting over a minute makes its owner degraded", () => {
    const [view] = snapshot([service("stats", [stats(4, 75_000)])]).services;
    expect(view?.status).toBe("degraded");
    expect(view?.reasons).toEqual(["oldest task in its queue is 75 s old"]);
  });

  test("a service without tasks has none, and no queue in the topology", () => {
    const snap = snapshot([
      service("runs", [instance("runs", "r1", { data: { outbox: null, consumers: [] } })]),
    ]);
    expect(snap.services[0]?.tasks).toBeNull();
    expect(snap.topology.nodes.some((n) => n.kind === "queue")).toBe(false);
  });
});

describe("readServiceData", () => {
  const good = {
    outbox: null,
    consumers: [{ name: "c", stream: "S", pending: 0, ackPending: 0, redelivered: 0, dead: 1 }],
  };
  const table: [string, { data?: unknown }[], ServiceData | null][] = [
    ["the kit's shape", [{ data: good }], good],
    ["on a later endpoint", [{}, { data: null }, { data: good }], good],
    ["absent (a foreign service)", [{}, { data: null }], null],
    ["something else", [{ data: { hello: "world" } }], null],
    ["a negative count", [{ data: { outbox: { backlog: -1, oldestAgeMs: null }, consumers: [] } }], null],
    [
      "with tasks",
      [{ data: { ...good, tasks: { queue: null, submits: ["stats/report.monthly"], sentPending: 0 } } }],
      { ...good, tasks: { queue: null, submits: ["stats/report.monthly"], sentPending: 0 } },
    ],
    [
      "tasks with a queue whose depth is not a count",
      [
        {
          data: {
            ...good,
            tasks: {
              queue: {
                stream: "TASKS_X",
                pending: 0,
                inProgress: 0,
                oldestAgeMs: null,
                tasks: [{ task: "x/y", depth: "3" }],
              },
              submits: [],
              sentPending: 0,
            },
          },
        },
      ],
      null,
    ],
    [
      "a consumer without a stream",
      [{ data: { outbox: null, consumers: [{ name: "c", pending: 0 }] } }],
      null,
    ],
  ];
  for (const [name, endpoints, expected] of table) {
    test(name, () => expect(readServiceData(endpoints)).toEqual(expected));
  }
});
