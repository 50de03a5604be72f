/**
 * The dashboard's view of the mesh from `$SRV.INFO` and `$SRV.STATS`, polled
 * about once a second but only while someone is looking (an open event
 * stream, or a snapshot asked for in the last half minute): every service
 * ever seen, its instances with their endpoints, counters and kit figures.
 * An instance that misses a poll is pinged at `$SRV.PING.<name>.<id>`, and
 * dropped at once if nobody listens there (a killed process), else after
 * three missed polls. A service whose instances are all gone stays, with
 * none, so the page can say it is down. Web standards only.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { type EndpointInfo, type NamedEndpointStats, ServiceVerb } from "@nats-io/services";
import type { Logger } from "@runnerly/kit/web";
import { querySrv, type SrvOutcome } from "../../discovery/srv-query.ts";
import { readServiceData, type ServiceData } from "./service-data.ts";
import type { Sample } from "./window.ts";

export type InstanceRecord = {
  id: string;
  name: string;
  version: string;
  description: string;
  metadata: Record<string, string>;
  endpoints: EndpointInfo[];
  started: string | null;
  stats: NamedEndpointStats[];
  data: ServiceData | null;
  missed: number;
  lastSeen: number;
  /** Totals at the previous poll, per endpoint, to turn counters into per-poll amounts. */
  counters: Map<string, { requests: number; errors: number; ns: number }>;
};

export type ServiceRecord = {
  name: string;
  instances: Map<string, InstanceRecord>;
  lost: { id: string; version: string; at: number }[];
  lastSeen: number;
  /** The last instance dropped: what a service that is down last said about itself. */
  last: InstanceRecord | null;
};

export type MeshWatchOptions = {
  nc: NatsConnection;
  logger: Logger;
  /** Pause between the starts of two polls (default 1000). */
  intervalMs?: number;
  /** How long a query waits for its first reply (default 2000); later ones end 300 ms after the previous. */
  queryWaitMs?: number;
  /** How long polling goes on after the last demand with no subscriber (default 30 s). */
  idleMs?: number;
  /** Told what each service's endpoints counted since the previous poll. */
  onCounts?: (service: string, sample: Sample) => void;
  /** Told after each poll that got answers. */
  onPoll?: () => void;
  now?: () => number;
};

const MAX_MISSES = 3;
const LOST_KEPT_MS = 60_000;
const FORGET_AFTER_MS = 15 * 60_000;

/**
 * Polls the mesh on demand and keeps what it learnt.
 *
 * @example
 * const watch = new MeshWatch({ nc, logger });
 * await watch.fresh(); // polls once if nobody was watching
 * watch.services.get("runs")?.instances.size;
 */
export class MeshWatch {
  readonly services = new Map<string, ServiceRecord>();
  /** False after a poll that got no answer and no verdict (NATS unreachable). */
  reachable = true;
  readonly #o: Required<Omit<MeshWatchOptions, "onCounts" | "onPoll">> &
    Pick<MeshWatchOptions, "onCounts" | "onPoll">;
  readonly #listeners = new Set<() => void>();
  readonly #pending = new Set<Promise<void>>();
  #lastDemand = 0;
  #lastPoll = 0;
  #loop: Promise<void> | null = null;
  #waiters: (() => void)[] = [];
  #wake: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: MeshWatchOptions) {
    this.#o = { intervalMs: 1000, queryWaitMs: 2000, idleMs: 30_000, now: Date.now, ...options };
  }

  /** Resolves once what it holds is at most two polls old, polling now if nobody was watching. */
  fresh(): Promise<void> {
    this.#lastDemand = this.#o.now();
    if (this.#loop && this.#o.now() - this.#lastPoll <= 2 * this.#o.intervalMs) return Promise.resolve();
    const next = new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.#start();
    return next;
  }

  /** Calls `listener` after every poll while subscribed (and keeps polling going meanwhile). */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    this.#lastDemand = this.#o.now();
    this.#start();
    return () => {
      this.#listeners.delete(listener);
      this.#lastDemand = this.#o.now();
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    for (const w of this.#waiters.splice(0)) w();
    await this.#loop;
    await Promise.all([...this.#pending]);
  }

  #start(): void {
    if (this.#loop || this.#closed) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = null;
    });
  }

  async #run(): Promise<void> {
    const o = this.#o;
    while (!this.#closed && (this.#listeners.size > 0 || o.now() - this.#lastDemand < o.idleMs)) {
      const started = o.now();
      try {
        await this.#poll();
      } catch (err) {
        if (!this.#closed) o.logger.error({ err: String(err) }, "dashboard poll failed");
      }
      this.#lastPoll = o.now();
      for (const w of this.#waiters.splice(0)) w();
      for (const l of this.#listeners) l();
      await this.#sleep(Math.max(0, o.intervalMs - (o.now() - started)));
    }
    for (const w of this.#waiters.splice(0)) w();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
    });
  }

  async #poll(): Promise<void> {
    const now = this.#o.now();
    const seen = new Set<string>();
    // After a pause (nobody watching) the counters' growth spans the pause: not a rate to report.
    const counting = now - this.#lastPoll <= 3 * this.#o.intervalMs;
    const [info, stats] = await Promise.all([
      this.#query(`$SRV.${ServiceVerb.INFO}`, (body) => this.#onInfo(body, now, seen)),
      this.#query(`$SRV.${ServiceVerb.STATS}`, (body) => this.#onStats(body, now, seen, counting)),
    ]);
    this.reachable = info !== "silent" || stats !== "silent";
    if (!this.reachable) return; // no answer is no evidence: keep what we know
    const nobody = info === "none" && stats === "none";
    for (const svc of this.services.values()) {
      for (const inst of svc.instances.values()) {
        if (seen.has(inst.id)) continue;
        inst.missed += 1;
        if (nobody || inst.missed >= MAX_MISSES) this.#drop(svc, inst);
        else this.#confirm(svc, inst);
      }
      svc.lost = svc.lost.filter((l) => now - l.at < LOST_KEPT_MS);
      if (svc.instances.size === 0 && now - svc.lastSeen > FORGET_AFTER_MS) this.services.delete(svc.name);
    }
    this.#o.onPoll?.();
  }

  #instance(name: string, id: string, version: string, now: number, seen: Set<string>): InstanceRecord {
    let svc = this.services.get(name);
    if (!svc) {
      svc = { name, instances: new Map(), lost: [], lastSeen: now, last: null };
      this.services.set(name, svc);
    }
    svc.lastSeen = now;
    seen.add(id);
    let inst = svc.instances.get(id);
    if (!inst) {
      inst = {
        id,
        name,
        version,
        description: "",
        metadata: {},
        endpoints: [],
        started: null,
        stats: [],
        data: null,
        missed: 0,
        lastSeen: now,
        counters: new Map(),
      };
      svc.instances.set(id, inst);
    }
    inst.version = version;
    inst.missed = 0;
    inst.lastSeen = now;
    return inst;
  }

  #onInfo(body: unknown, now: number, seen: Set<string>): void {
    if (!isIdentity(body) || !Array.isArray(body.endpoints)) return;
    const inst = this.#instance(body.name, body.id, body.version, now, seen);
    inst.description = typeof body.description === "string" ? body.description : "";
    inst.metadata = isStringRecord(body.metadata) ? body.metadata : {};
    inst.endpoints = (body.endpoints as unknown[]).filter(isEndpoint);
  }

  #onStats(body: unknown, now: number, seen: Set<string>, counting: boolean): void {
    if (!isIdentity(body)) return;
    const inst = this.#instance(body.name, body.id, body.version, now, seen);
    inst.started = typeof body.started === "string" ? body.started : null;
    inst.stats = (Array.isArray(body.endpoints) ? body.endpoints : []).filter(isEndpointStats);
    inst.data = readServiceData(inst.stats);
    const sample: Sample = { requests: 0, errors: 0, totalMs: 0 };
    for (const e of inst.stats) {
      const prev = inst.counters.get(e.name);
      const cur = { requests: e.num_requests, errors: e.num_errors, ns: e.processing_time };
      inst.counters.set(e.name, cur);
      // First sight: its totals are from before we watched. A smaller total: the instance restarted.
      if (!prev) continue;
      const reset = cur.requests < prev.requests;
      sample.requests += reset ? cur.requests : cur.requests - prev.requests;
      sample.errors += reset ? cur.errors : Math.max(0, cur.errors - prev.errors);
      sample.totalMs += (reset ? cur.ns : Math.max(0, cur.ns - prev.ns)) / 1e6;
    }
    if (counting) this.#o.onCounts?.(body.name, sample);
  }

  #drop(svc: ServiceRecord, inst: InstanceRecord): void {
    if (!svc.instances.delete(inst.id)) return;
    svc.last = inst;
    svc.lost.push({ id: inst.id, version: inst.version, at: this.#o.now() });
    this.#o.logger.info({ service: svc.name, id: inst.id }, "dashboard: instance stopped answering");
  }

  /** A missed poll may be a slow reply; the server knows at once whether anyone still listens. */
  #confirm(svc: ServiceRecord, inst: InstanceRecord): void {
    const p = this.#query(`$SRV.${ServiceVerb.PING}.${svc.name}.${inst.id}`, () => {})
      .then((outcome) => {
        if (outcome !== "none") return;
        this.#drop(svc, inst);
        // Worth telling now rather than at the next poll.
        for (const l of this.#listeners) l();
      })
      .catch(() => {});
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  // A failed query (e.g. the connection is away) is no verdict on any instance.
  async #query(subject: string, onReply: (body: unknown) => void): Promise<SrvOutcome> {
    const { nc, queryWaitMs } = this.#o;
    if (nc.isClosed()) return "silent";
    return querySrv(nc, subject, onReply, queryWaitMs).catch(() => "silent" as const);
  }
}

type Identity = { name: string; id: string; version: string; [key: string]: unknown };

function isIdentity(v: unknown): v is Identity {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.name === "string" && typeof r.id === "string" && typeof r.version === "string";
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === "object" && v !== null && Object.values(v).every((x) => typeof x === "string");
}

function isEndpoint(v: unknown): v is EndpointInfo {
  const r = v as Record<string, unknown> | null;
  return typeof r?.name === "string" && typeof r.subject === "string";
}

function isEndpointStats(v: unknown): v is NamedEndpointStats {
  const r = v as Record<string, unknown> | null;
  return (
    typeof r?.name === "string" &&
    typeof r.num_requests === "number" &&
    typeof r.num_errors === "number" &&
    typeof r.processing_time === "number"
  );
}
