/**
 * Joins what the dashboard knows into one snapshot: the mesh as polled
 * (poller.ts), the edge's own figures and circuits, and the route table (a
 * route whose service never answered a poll still shows, as down). Decides
 * each service's status and draws the topology edge → services → streams →
 * consumers, and requesters → the task queues of the services they submit
 * tasks to. Each instance carries how the edge's balancer sees it (from the
 * route table, by instance id). Pure: no I/O, so it is tested with plain values.
 */

import { count, times } from "./client/format.ts";
import type { InstanceRecord, ServiceRecord } from "./poller.ts";
import type {
  CircuitStateName,
  ConsumerView,
  EndpointView,
  InstanceBalance,
  InstanceView,
  OutboxView,
  ServiceStatus,
  ServiceView,
  SloView,
  Snapshot,
  TasksView,
  TopologyLink,
  TopologyNode,
} from "./types.ts";
import type { WindowFigures } from "./window.ts";

/** A route of the edge's table with its circuit and its instances' balancer states, as `GET /_/routes` lists it (`Edge.status`). */
export type RouteCircuit = {
  prefix: string;
  service: string;
  circuit: CircuitStateName;
  instances: { id: string; version: string; balance: InstanceBalance | null }[];
};

export type SnapshotInput = {
  services: Iterable<ServiceRecord>;
  routes: RouteCircuit[];
  reachable: boolean;
  windowSeconds: number;
  /** The edge's own figures for a service (its rolling window). */
  edgeFigures(service: string): WindowFigures;
  /** The service's `$SRV.STATS` counts over the same window. */
  serviceFigures(service: string): WindowFigures;
  /** Its measured service levels (the edge's `/_/slo`), when known. */
  levels?(service: string): SloView | null;
  now: number;
};

/** Thresholds of "degraded". */
const ERROR_RATE = 0.05;
const MIN_REQUESTS = 5;
const STUCK_OUTBOX_MS = 60_000;
const STUCK_TASK_MS = 60_000;
const RECENTLY_LOST_MS = 30_000;

/** `EVENTS_<NAME>`: a producing service's stream (docs/protocol.md §6). */
export const streamOf = (service: string): string => `EVENTS_${service.toUpperCase().replace(/-/g, "_")}`;

/** `TASKS_<NAME>`: the work queue of the tasks a service works (docs/protocol.md §10). */
export const taskQueueOf = (service: string): string => `TASKS_${service.toUpperCase().replace(/-/g, "_")}`;

/**
 * Builds the snapshot the page shows.
 *
 * @example
 * const snap = buildSnapshot({ services: watch.services.values(), routes: status(), reachable: true, … });
 */
export function buildSnapshot(input: SnapshotInput): Omit<Snapshot, "figuresThrough" | "workers" | "charts"> {
  const records = new Map<string, ServiceRecord>();
  for (const r of input.services) records.set(r.name, r);
  const routesOf = new Map<string, RouteCircuit[]>();
  for (const r of input.routes) routesOf.set(r.service, [...(routesOf.get(r.service) ?? []), r]);
  // A routed service the polls never saw (the dashboard opened after it died) is listed too.
  for (const name of routesOf.keys()) {
    if (!records.has(name))
      records.set(name, { name, instances: new Map(), lost: [], lastSeen: 0, last: null });
  }
  const consumedStreams = new Set<string>();
  for (const r of records.values())
    for (const i of described(r)) for (const c of i.data?.consumers ?? []) consumedStreams.add(c.stream);

  const services = [...records.values()]
    .map((r) => serviceView(r, routesOf.get(r.name) ?? [], consumedStreams, input))
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    at: new Date(input.now).toISOString(),
    meshReachable: input.reachable,
    windowSeconds: input.windowSeconds,
    services,
    topology: topology(services),
  };
}

function serviceView(
  r: ServiceRecord,
  routes: RouteCircuit[],
  consumedStreams: Set<string>,
  input: SnapshotInput,
): ServiceView {
  const instances = [...r.instances.values()].sort((a, b) => a.id.localeCompare(b.id));
  const basis = described(r);
  const newest = [...basis].sort((a, b) => b.lastSeen - a.lastSeen)[0];
  // What the edge routes, not what the service claims (the edge may refuse a claim).
  const prefix = routes[0]?.prefix ?? null;
  const circuit = worstCircuit(routes);
  const outbox = mergeOutbox(basis);
  const consumers = mergeConsumers(basis);
  const tasks = mergeTasks(basis);
  const ef = input.edgeFigures(r.name);
  const sf = input.serviceFigures(r.name);
  const stream = outbox || consumedStreams.has(streamOf(r.name)) ? streamOf(r.name) : null;
  const lost = r.lost.map((l) => ({ id: l.id, version: l.version, at: new Date(l.at).toISOString() }));
  const balances = balancesOf(routes);
  const views: InstanceView[] = instances.map((i) => ({
    id: i.id,
    version: i.version,
    started: i.started,
    missed: i.missed,
    balance: balances.get(i.id) ?? null,
  }));

  const slo = input.levels?.(r.name) ?? null;
  const reasons: string[] = [];
  let status: ServiceStatus = "healthy";
  if (instances.length === 0) {
    status = "down";
    reasons.push(r.lastSeen ? "no instance answers" : "routed by the edge, but no instance answers $SRV");
  } else {
    const silent = instances.filter((i) => i.missed > 0).length;
    if (silent) reasons.push(`${silent} of ${instances.length} instances not answering`);
    const ejected = views.flatMap((i) => (i.balance?.state === "ejected" ? [i.balance] : []));
    if (ejected.length) {
      const until = ejectedUntil(ejected);
      reasons.push(`${ejected.length} of ${views.length} instances ejected${until ? ` (${until})` : ""}`);
    }
    const recent = r.lost.filter((l) => input.now - l.at < RECENTLY_LOST_MS).length;
    if (recent)
      reasons.push(`${count(recent, "instance")} stopped answering in the last ${RECENTLY_LOST_MS / 1000} s`);
    if (circuit && circuit !== "closed") reasons.push(`circuit ${circuit}`);
    if (failing(ef)) reasons.push(`${percent(ef.errorRate)} of its requests failed at the edge`);
    if (failing(sf)) reasons.push(`${percent(sf.errorRate)} of its requests failed at the service`);
    if (slo?.burning) reasons.push(`burning its error budget fast (${times(slo.burnRate)} the allowed rate)`);
    if ((outbox?.oldestAgeMs ?? 0) > STUCK_OUTBOX_MS)
      reasons.push(`oldest unsent event is ${Math.round((outbox?.oldestAgeMs ?? 0) / 1000)} s old`);
    if ((tasks?.queue?.oldestAgeMs ?? 0) > STUCK_TASK_MS)
      reasons.push(
        `oldest task in its queue is ${Math.round((tasks?.queue?.oldestAgeMs ?? 0) / 1000)} s old`,
      );
    if (reasons.length) status = "degraded";
  }

  return {
    name: r.name,
    status,
    reasons,
    description: newest?.description ?? "",
    prefix,
    instances: views,
    lost,
    endpoints: endpoints(basis),
    edge: {
      requestsPerSecond: ef.requestsPerSecond,
      errorRate: ef.errorRate,
      p99Ms: ef.p99Ms,
      requests: ef.requests,
    },
    service: { requestsPerSecond: sf.requestsPerSecond, errorRate: sf.errorRate, averageMs: sf.averageMs },
    circuit,
    outbox,
    stream,
    consumers,
    tasks,
    lastSeen: r.lastSeen ? new Date(r.lastSeen).toISOString() : null,
    slo,
  };
}

/** The instances a service's description comes from: its live ones, or when it is down the last one seen. */
function described(r: ServiceRecord): InstanceRecord[] {
  if (r.instances.size > 0) return [...r.instances.values()];
  return r.last ? [r.last] : [];
}

/** Each instance's balancer state by id, over the service's routes (the same instance under every prefix). */
function balancesOf(routes: RouteCircuit[]): Map<string, InstanceBalance> {
  const byId = new Map<string, InstanceBalance>();
  for (const r of routes)
    for (const i of r.instances) if (i.balance && !byId.has(i.id)) byId.set(i.id, i.balance);
  return byId;
}

/** When ejected instances come back on probation: `until 12:00:30 UTC`, a span for several; null if unknown. */
function ejectedUntil(balances: InstanceBalance[]): string | null {
  const times = balances
    .flatMap((b) => (b.ejectedUntil ? [Date.parse(b.ejectedUntil)] : []))
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b);
  if (times.length === 0) return null;
  const clock = (t: number) => new Date(t).toISOString().slice(11, 19);
  const first = clock(times[0]!);
  const last = clock(times[times.length - 1]!);
  return first === last ? `until ${first} UTC` : `until ${first}–${last} UTC`;
}

function failing(f: WindowFigures): boolean {
  return f.requests >= MIN_REQUESTS && (f.errorRate ?? 0) >= ERROR_RATE;
}

function percent(rate: number | null): string {
  return `${Math.round((rate ?? 0) * 100)} %`;
}

const CIRCUIT_RANK: Record<CircuitStateName, number> = { closed: 0, "half-open": 1, open: 2 };

function worstCircuit(routes: RouteCircuit[]): CircuitStateName | null {
  let worst: CircuitStateName | null = null;
  for (const r of routes) if (!worst || CIRCUIT_RANK[r.circuit] > CIRCUIT_RANK[worst]) worst = r.circuit;
  return worst;
}

/** Endpoints by name, with counts summed over instances. */
function endpoints(instances: InstanceRecord[]): EndpointView[] {
  const byName = new Map<string, EndpointView>();
  for (const i of instances) {
    for (const e of i.endpoints) {
      const kind = e.metadata?.kind ?? (e.name === "http" ? "http" : "");
      // Each instance's own subject differs: shown as the pattern, with counts summed like the others.
      const subject = kind === "http-instance" ? e.subject.replace(/\.[^.]+$/, ".<instance id>") : e.subject;
      if (!byName.has(e.name)) byName.set(e.name, { name: e.name, subject, kind, requests: 0, errors: 0 });
    }
    for (const s of i.stats) {
      const view = byName.get(s.name) ?? {
        name: s.name,
        subject: s.subject,
        kind: "",
        requests: 0,
        errors: 0,
      };
      view.requests += s.num_requests;
      view.errors += s.num_errors;
      byName.set(s.name, view);
    }
  }
  const order = (e: EndpointView) =>
    e.kind === "http" || e.kind === "http-instance" ? 0 : e.kind === "rpc" ? 1 : e.kind === "admin" ? 3 : 2;
  return [...byName.values()].sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name));
}

/**
 * What a poll read of a service's gauges: its outbox backlog and its
 * consumers' pending events summed (null when it reports none), for the charts.
 *
 * @example
 * serviceGauges(watch.services.get("runs")!); // { backlog: 0, lag: 3 }
 */
export function serviceGauges(r: ServiceRecord): { backlog: number | null; lag: number | null } {
  const live = [...r.instances.values()];
  const consumers = mergeConsumers(live);
  return {
    backlog: mergeOutbox(live)?.backlog ?? null,
    lag: consumers.length ? consumers.reduce((n, c) => n + c.pending, 0) : null,
  };
}

/** Instances on one machine share one outbox table, so the largest report is the backlog (not the sum). */
function mergeOutbox(instances: InstanceRecord[]): OutboxView | null {
  const reports = instances.flatMap((i) => (i.data?.outbox ? [i.data.outbox] : []));
  if (reports.length === 0) return null;
  const ages = reports.flatMap((o) => (o.oldestAgeMs === null ? [] : [o.oldestAgeMs]));
  return {
    backlog: Math.max(...reports.map((o) => o.backlog)),
    oldestAgeMs: ages.length ? Math.max(...ages) : null,
  };
}

/** A durable consumer is one thing in JetStream: every instance reports the same one; the freshest wins. */
function mergeConsumers(instances: InstanceRecord[]): ConsumerView[] {
  const byKey = new Map<string, ConsumerView>();
  for (const i of [...instances].sort((a, b) => a.lastSeen - b.lastSeen)) {
    for (const c of i.data?.consumers ?? []) byKey.set(`${c.stream}/${c.name}`, c);
  }
  return [...byKey.values()].sort((a, b) => a.stream.localeCompare(b.stream) || a.name.localeCompare(b.name));
}

/**
 * A service's tasks: its queue as the freshest instance read it (one queue in
 * JetStream), the tasks any instance submits, and the largest count of tasks
 * sent still pending (instances share one store). Null when none reports tasks.
 */
function mergeTasks(instances: InstanceRecord[]): TasksView | null {
  const reports = [...instances].sort((a, b) => a.lastSeen - b.lastSeen).flatMap((i) => i.data?.tasks ?? []);
  if (reports.length === 0) return null;
  return {
    queue: reports.findLast((t) => t.queue)?.queue ?? null,
    submits: [...new Set(reports.flatMap((t) => t.submits))].sort(),
    sentPending: Math.max(...reports.map((t) => t.sentPending)),
  };
}

/**
 * Task queues in the streams' column: each owner's `TASKS_<NAME>` with its
 * depth and oldest age (labelled with the owner), and a `task` link from each
 * requester to the queue of every owner it submits to. An owner that reports
 * no queue (not running, or foreign) still gets its node, depth unknown.
 */
function taskTopology(services: ServiceView[], nodes: TopologyNode[], links: TopologyLink[]): void {
  const byName = new Map(services.map((s) => [s.name, s]));
  const added = new Set<string>();
  const addQueue = (owner: string): string => {
    const id = `queue:${taskQueueOf(owner)}`;
    if (added.has(id)) return id;
    added.add(id);
    const svc = byName.get(owner);
    const queue = svc?.tasks?.queue ?? null;
    nodes.push({
      id,
      kind: "queue",
      label: `${taskQueueOf(owner)} (${owner})`,
      ...(svc ? { status: svc.status } : {}),
      depth: queue ? queue.tasks.reduce((n, t) => n + t.depth, 0) : null,
      oldestAgeMs: queue?.oldestAgeMs ?? null,
    });
    return id;
  };
  for (const s of services) if (s.tasks?.queue) addQueue(s.name);
  for (const s of services) {
    const owners = new Set((s.tasks?.submits ?? []).map((t) => t.split("/")[0] ?? t));
    for (const owner of [...owners].sort())
      links.push({ from: `service:${s.name}`, to: addQueue(owner), kind: "task" });
  }
}

/** edge → each routed service → its stream → the consumers reading it (labelled with their service). */
function topology(services: ServiceView[]): { nodes: TopologyNode[]; links: TopologyLink[] } {
  const nodes: TopologyNode[] = [{ id: "edge", kind: "edge", label: "edge" }];
  const links: TopologyLink[] = [];
  const streams = new Set<string>();
  const addStream = (name: string) => {
    if (streams.has(name)) return;
    streams.add(name);
    nodes.push({ id: `stream:${name}`, kind: "stream", label: name });
  };
  for (const s of services) {
    nodes.push({ id: `service:${s.name}`, kind: "service", label: s.name, status: s.status });
    if (s.prefix) links.push({ from: "edge", to: `service:${s.name}` });
  }
  for (const s of services) {
    if (!s.stream) continue;
    addStream(s.stream);
    links.push({ from: `service:${s.name}`, to: `stream:${s.stream}` });
  }
  for (const s of services) {
    for (const c of s.consumers) {
      addStream(c.stream);
      const id = `consumer:${c.stream}/${c.name}`;
      nodes.push({
        id,
        kind: "consumer",
        label: `${c.name} (${s.name})`,
        status: s.status,
        pending: c.pending,
      });
      links.push({ from: `stream:${c.stream}`, to: id });
    }
  }
  taskTopology(services, nodes, links);
  return { nodes, links };
}
