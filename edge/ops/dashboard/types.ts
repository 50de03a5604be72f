/**
 * What the dashboard serves: one snapshot of the mesh as JSON (`GET
 * /_/api/snapshot`, and each `/_/events` frame). Types only, so the browser
 * code imports them too.
 */
import type { ServiceStatsData } from "@runnerly/kit/web";
import type { InstanceBalance } from "../../proxy/balance/balancer.ts";
import type { CircuitStateName } from "../../proxy/resilience/breaker.ts";

export type { CircuitStateName, InstanceBalance };

/** healthy: every instance answers and nothing is failing; degraded: it serves, but something is wrong; down: no instance answers. */
export type ServiceStatus = "healthy" | "degraded" | "down";

export type InstanceView = {
  id: string;
  version: string;
  /** When the instance started (its `$SRV.STATS` `started`), ISO time. */
  started: string | null;
  /** Polls in a row it did not answer (0: it answered the last one). */
  missed: number;
  /**
   * How the edge's balancer sees it (healthy, ejected, on probation; tries in
   * flight, latency); null when the edge has not called it yet, or the service
   * has no instance subjects (a foreign service: NATS picks its instance).
   */
  balance: InstanceBalance | null;
};

export type EndpointView = {
  name: string;
  subject: string;
  /** `http`, `rpc`, `admin` (the kit's endpoint metadata), or `""` for a foreign endpoint without one. */
  kind: string;
  /** Totals since each instance started, summed over instances (`$SRV.STATS`). */
  requests: number;
  errors: number;
};

/** Requests the edge answered for a service over the last `windowSeconds` (every worker of a Bun edge summed). */
export type EdgeFigures = {
  requestsPerSecond: number;
  /** Share of 5xx answers, 0…1; null without requests. */
  errorRate: number | null;
  /** 99th percentile of the edge's response time, ms; null without requests. */
  p99Ms: number | null;
  requests: number;
};

/** The service's own counts (`$SRV.STATS`, every caller, every instance) over the same window. */
export type ServiceFigures = {
  requestsPerSecond: number;
  errorRate: number | null;
  /** Mean processing time of the window's requests, ms. */
  averageMs: number | null;
};

/** A service's outbox and consumers, as it reports them in `$SRV.STATS` (the kit's wire shape). */
export type OutboxView = NonNullable<ServiceStatsData["outbox"]>;
export type ConsumerView = ServiceStatsData["consumers"][number];

/** A service's tasks as it reports them in `$SRV.STATS`: the queue it works, the tasks it submits. */
export type TasksView = {
  /** Its work queue `TASKS_<NAME>` (every instance reads the same one); null when it works no task. */
  queue: NonNullable<NonNullable<ServiceStatsData["tasks"]>["queue"]> | null;
  /** Tasks it submits, `<owner>/<name>`. */
  submits: string[];
  /** Tasks it submitted still waiting for their result. */
  sentPending: number;
};

export type ServiceView = {
  name: string;
  status: ServiceStatus;
  /** Why it is not healthy, in words (empty when healthy). */
  reasons: string[];
  description: string;
  /** The prefix the edge routes to it; null when it routes none (no HTTP endpoint, or a refused claim). */
  prefix: string | null;
  instances: InstanceView[];
  /** Instances that stopped answering in the last minute. */
  lost: { id: string; version: string; at: string }[];
  endpoints: EndpointView[];
  edge: EdgeFigures;
  service: ServiceFigures;
  /** The edge's circuit for it; null when the edge has no route to it. */
  circuit: CircuitStateName | null;
  /** Its transactional outbox; null without one (or for a service that does not report it). */
  outbox: OutboxView | null;
  /** Its event stream (`EVENTS_<NAME>`) when it publishes events. */
  stream: string | null;
  consumers: ConsumerView[];
  /** Its task queue and the tasks it submits; null when it reports no tasks. */
  tasks: TasksView | null;
  /** Last time any instance answered, ISO time; null if none ever did (known only from the route table). */
  lastSeen: string | null;
  /** Its declared objectives against what the edge measured over the shortest window (`/_/slo`); null when unmeasured. */
  slo: SloView | null;
};

export type SloView = {
  window: string;
  /** Declared availability, percent; null when none is declared. */
  objective: number | null;
  /** Measured availability, percent; null without requests. */
  availability: number | null;
  /** Percent of the error budget left (below 0: overspent); null without objective. */
  budgetRemaining: number | null;
  burnRate: number | null;
  burning: boolean;
};

export type TopologyNode = {
  id: string;
  kind: "edge" | "service" | "stream" | "consumer" | "queue";
  label: string;
  /** Services: their status; consumers and task queues: their owner's. */
  status?: ServiceStatus;
  /** Consumers: their lag (pending events). */
  pending?: number;
  /** Task queues: the tasks in it (waiting or being worked), and the oldest one's age; null when unknown. */
  depth?: number | null;
  oldestAgeMs?: number | null;
};

/** `task`: a requester submits tasks to the owner's queue, and the owner works them from it. */
export type TopologyLink = { from: string; to: string; kind?: "task" };

/**
 * 15 minutes of every service in steps of `stepSeconds`, the first starting
 * at `start` (seconds since the epoch): what the edge answered per second
 * (null p99: no request), and what polls read (null: not polled then, or
 * nothing to report).
 */
export type ServiceCharts = {
  start: number;
  stepSeconds: number;
  services: {
    name: string;
    requestsPerSecond: number[];
    errorsPerSecond: number[];
    p99Ms: (number | null)[];
    outboxBacklog: (number | null)[];
    consumerLag: (number | null)[];
  }[];
};

export type Snapshot = {
  /** When it was taken, ISO time. */
  at: string;
  /**
   * The end of the window the edge's figures cover, ISO time: on a Bun edge
   * with several workers the last whole second, so every worker answering at
   * the same second shows the same figures.
   */
  figuresThrough: string;
  /** Which worker answered (null: the edge runs as one process) and how many workers' figures are summed. */
  workers: { answeredBy: string | null; merged: number };
  /** False while the edge gets no answer at all from NATS (figures are then the last known). */
  meshReachable: boolean;
  windowSeconds: number;
  services: ServiceView[];
  topology: { nodes: TopologyNode[]; links: TopologyLink[] };
  charts: ServiceCharts;
};
