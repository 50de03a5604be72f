/**
 * The edge chooses the instance of every try. Each kit instance also serves
 * its HTTP surface on a subject of its own (`svc.<name>.http.<id>`), so the
 * edge, not the NATS queue group, decides where a try goes:
 *
 * - **Power of two choices**: two healthy instances drawn at random, the one
 *   with the lower cost wins; cost = its latency (a peak EWMA that decays
 *   with time) × (its tries in flight + 1). A hung instance piles up tries in
 *   flight and stops winning; a slow one loses on latency.
 * - **Outlier ejection** (Envoy's model): `failures` failed tries in a row
 *   (timeouts, 5xx) eject an instance for `ejectMs` × its ejection count (up
 *   to `maxEjectMs`); a try that found nobody on its subject ejects it at once.
 *   At most `maxEjectedPercent` of a service's instances (at least one) are
 *   ejected at a time. Once the time is up the instance is on probation: one
 *   try at a time, only of requests that may be retried, until one succeeds.
 * - **A retry or a hedge never goes back** to an instance the request already
 *   tried while another is available.
 * - **Hedge delay**: the p95 of the service's recent tries, within bounds.
 *
 * A service whose instances have no instance subject (a foreign ADR-32
 * service) is called on its shared subject, as before: NATS picks.
 * Web standards only.
 */
import type { Instance, Route } from "../../discovery/route-table.ts";
import type { Outcome } from "../attempt.ts";

export type OutlierSettings = {
  /** Failed tries in a row (timeouts, 5xx) that eject an instance. */
  failures: number;
  /** The first ejection's length; the n-th lasts n times as long, up to `maxEjectMs`. */
  ejectMs: number;
  maxEjectMs: number;
  /** The largest share (percent) of a service's instances ejected at once; at least one may be. */
  maxEjectedPercent: number;
};

export type HedgeSettings = {
  /** Hedge requests that may be retried (per route: `EDGE_ROUTE_HEDGE`). */
  enabled: boolean;
  /** Bounds of the hedge delay (the service's observed p95). */
  minMs: number;
  maxMs: number;
};

export type InstanceState = "healthy" | "ejected" | "probing";

/** One instance as `/_/routes` and the dashboard show it. */
export type InstanceBalance = {
  state: InstanceState;
  /** When an ejected instance is let back on probation (ISO time), else null. */
  ejectedUntil: string | null;
  inFlight: number;
  /** Its latency estimate (peak EWMA, ms) as of its last answer, null before its first answer or after an ejection. */
  latencyMs: number | null;
  /** Failed tries in a row. */
  failures: number;
  /** Times it was ejected (each ejection lasts longer). */
  ejections: number;
};

export type BalancerHooks = {
  /** An instance was ejected for `ms`. */
  onEject?(service: string, id: string, ms: number, reason: string): void;
  /** A try found nobody on an instance's subject: the instance is probably gone. */
  onInstanceGone?(service: string, id: string): void;
};

/** How fast a latency estimate forgets (its half-life is about 0.7 × this). */
const DECAY_MS = 5000;
/** Tries kept per service for the hedge delay's p95, and how often it is recomputed. */
const WINDOW = 256;
const RECOMPUTE_EVERY = 32;
/** Below this many samples the hedge delay is its upper bound. */
const MIN_SAMPLES = 20;

class Stats {
  inFlight = 0;
  /** Latency estimate (ms) as of `at`; meaningless until `sampled`. */
  cost = 0;
  at = 0;
  sampled = false;
  failures = 0;
  ejections = 0;
  /** While > now: ejected; once passed (and not 0): on probation. */
  ejectedUntil = 0;
  lastEjectedAt = Number.NEGATIVE_INFINITY;

  constructor(readonly instance: Instance) {}

  /** The estimate now: it decays toward 0 while no answer comes, so an avoided instance is tried again. */
  costAt(now: number): number {
    return this.sampled ? this.cost * Math.exp((this.at - now) / DECAY_MS) : 0;
  }

  /** Peak EWMA: a slower answer counts at once, a faster one pulls the estimate down over time. */
  observe(ms: number, now: number): void {
    if (!this.sampled) {
      this.cost = ms;
      this.sampled = true;
    } else {
      const w = Math.exp((this.at - now) / DECAY_MS);
      const decayed = this.cost * w;
      this.cost = ms > decayed ? ms : decayed * w + ms * (1 - w);
    }
    this.at = now;
  }
}

class ServiceBalance {
  readonly stats = new Map<string, Stats>();
  /** The route's instance list the stats were last matched against. */
  instances: readonly Instance[] = [];
  /** Whether the service's instances have instance subjects (a kit service). */
  balanced = false;
  readonly latencies = new Float64Array(WINDOW);
  samples = 0;
  p95 = 0;

  sync(instances: readonly Instance[]): void {
    if (instances === this.instances) return;
    this.instances = instances;
    this.balanced = instances.length > 0 && instances.every((i) => i.subject !== null);
    const ids = new Set(instances.map((i) => i.id));
    for (const id of this.stats.keys()) if (!ids.has(id)) this.stats.delete(id);
    for (const i of instances) {
      const s = this.stats.get(i.id);
      // An instance that re-registered with another subject (or version) starts afresh.
      if (!s || s.instance.subject !== i.subject || s.instance.version !== i.version)
        this.stats.set(i.id, new Stats(i));
    }
  }

  record(ms: number): void {
    this.latencies[this.samples % WINDOW] = ms;
    this.samples += 1;
    if (this.samples % RECOMPUTE_EVERY === 0 || this.samples === MIN_SAMPLES) {
      const n = Math.min(this.samples, WINDOW);
      const sorted = this.latencies.slice(0, n).sort();
      // Nearest rank.
      this.p95 = sorted[Math.max(0, Math.ceil(n * 0.95) - 1)]!;
    }
  }
}

/** Where one try goes: an instance's own subject (with its figures), or the shared subject. */
type Target = { subject: string; stats: Stats | null };

/**
 * The per-instance state of every service and the choice of instance.
 *
 * @example
 * const balancer = new Balancer({ outlier, hedge });
 * const picker = balancer.picker(route, { select: (r) => r.instances, shared: r.subject, idempotent: true, current });
 * const outcome = await picker.send(3000, (subject, ms) => attempt(requester, subject, outgoing, ms));
 */
export class Balancer {
  readonly #services = new Map<string, ServiceBalance>();

  constructor(
    readonly settings: { outlier: OutlierSettings; hedge: HedgeSettings },
    private readonly hooks: BalancerHooks = {},
    private readonly now: () => number = () => performance.now(),
    private readonly random: () => number = Math.random,
  ) {
    const o = settings.outlier;
    if (!Number.isInteger(o.failures) || o.failures < 1)
      throw new RangeError("outlier failures must be a positive integer");
    if (!(o.maxEjectedPercent >= 0 && o.maxEjectedPercent <= 100))
      throw new RangeError("maxEjectedPercent must be within 0..100");
  }

  /**
   * The tries of one request to `route`'s service, among `candidates` (its
   * instances, or those of the major version asked for). `shared` is the
   * subject used when the instances have no subject of their own.
   */
  picker(route: Route, options: PickerOptions): Picker {
    const svc = this.#service(route.service);
    svc.sync(route.instances);
    return new Picker(this, svc, route, options);
  }

  /** Matches the service's figures to its current instances (a retry sees instances that came or went). */
  sync(service: string, instances: readonly Instance[]): void {
    this.#service(service).sync(instances);
  }

  /** True when every instance of the service is failing or ejected (or it has no instance subjects). */
  allFailing(service: string): boolean {
    const svc = this.#services.get(service);
    if (!svc?.balanced) return true;
    const now = this.now();
    for (const s of svc.stats.values()) if (s.failures === 0 && !(s.ejectedUntil > now)) return false;
    return true;
  }

  /** How long a hedgeable try waits before a second one goes out: the service's p95, within bounds. */
  hedgeDelayMs(service: string): number {
    const { minMs, maxMs } = this.settings.hedge;
    const svc = this.#services.get(service);
    if (!svc || svc.samples < MIN_SAMPLES) return maxMs;
    return Math.min(maxMs, Math.max(minMs, Math.ceil(svc.p95)));
  }

  /** An instance's state, or undefined when the edge has not called it (or it has no instance subject). */
  describe(service: string, id: string): InstanceBalance | undefined {
    const svc = this.#services.get(service);
    const s = svc?.balanced ? svc.stats.get(id) : undefined;
    if (!s) return undefined;
    const now = this.now();
    const state = stateOf(s, now);
    return {
      state,
      ejectedUntil: state === "ejected" ? new Date(Date.now() + (s.ejectedUntil - now)).toISOString() : null,
      inFlight: s.inFlight,
      // As of its last answer (what the balancer compares decays while it gets none).
      latencyMs: s.sampled ? Math.round(s.cost * 10) / 10 : null,
      failures: s.failures,
      ejections: s.ejections,
    };
  }

  /** Chooses the target of the next try; `tried` are the ids this request already went to. */
  choose(
    svc: ServiceBalance,
    candidates: readonly Instance[],
    tried: string[] | null,
    idempotent: boolean,
  ): Stats | null {
    const now = this.now();
    const n = candidates.length;
    if (n === 0) return null;
    if (n === 1) return svc.stats.get(candidates[0]!.id) ?? null;
    // The best group that is not empty: untried and admitted, then untried and not ejected,
    // then not ejected, then anything (every instance is ejected: send rather than refuse).
    for (let level = 0; level < 4; level++) {
      let a: Stats | null = null;
      let b: Stats | null = null;
      let seen = 0;
      for (const inst of candidates) {
        const s = svc.stats.get(inst.id);
        if (!s || !eligible(s, level, tried, idempotent, now)) continue;
        // Reservoir sampling of two distinct eligible instances, without an array.
        seen += 1;
        if (seen === 1) a = s;
        else if (seen === 2) b = s;
        else {
          const r = Math.floor(this.random() * seen);
          if (r === 0) a = s;
          else if (r === 1) b = s;
        }
      }
      if (a === null) continue;
      if (b === null) return a;
      return score(b, now) < score(a, now) ? b : a;
    }
    return null;
  }

  /** True when one of `candidates` that the request has not tried may take a try now. */
  admits(
    svc: ServiceBalance,
    candidates: readonly Instance[],
    tried: string[] | null,
    idempotent: boolean,
  ): boolean {
    const now = this.now();
    for (const inst of candidates) {
      const s = svc.stats.get(inst.id);
      if (s && eligible(s, 0, tried, idempotent, now)) return true;
    }
    return false;
  }

  /** Books the start of a try on `s`. */
  begin(s: Stats): number {
    s.inFlight += 1;
    return this.now();
  }

  /** Books what a try on `s` came to. */
  end(svc: ServiceBalance, service: string, s: Stats, outcome: Outcome, started: number): void {
    const now = this.now();
    s.inFlight -= 1;
    const ms = now - started;
    switch (outcome.kind) {
      case "reply":
        s.observe(ms, now);
        if (outcome.status >= 500) this.#failed(svc, service, s, now, `${outcome.status}`);
        else {
          svc.record(ms);
          this.#succeeded(s, now);
        }
        return;
      case "timeout":
        // A failure, not a latency: its tries in flight already kept it from being drawn, and a
        // timeout-sized estimate would keep a recovered instance idle for half a minute.
        this.#failed(svc, service, s, now, "timeout");
        return;
      case "no-responders":
        // Nobody subscribes to its subject: the process is gone, or going.
        s.failures += 1;
        this.#eject(svc, service, s, now, "no-responders");
        this.hooks.onInstanceGone?.(service, s.instance.id);
        return;
      default:
        // Not the instance's doing (the mesh connection, a payload too large, the edge).
        return;
    }
  }

  #succeeded(s: Stats, now: number): void {
    s.failures = 0;
    // A probe that answered: back in the rotation. (A try sent before the ejection that answers
    // late does not cut the ejection short.)
    if (s.ejectedUntil <= now) s.ejectedUntil = 0;
  }

  #failed(svc: ServiceBalance, service: string, s: Stats, now: number, reason: string): void {
    s.failures += 1;
    const probing = s.ejectedUntil !== 0 && s.ejectedUntil <= now;
    if (probing || s.failures >= this.settings.outlier.failures) this.#eject(svc, service, s, now, reason);
  }

  #eject(svc: ServiceBalance, service: string, s: Stats, now: number, reason: string): void {
    if (s.ejectedUntil > now) return;
    const { ejectMs, maxEjectMs, maxEjectedPercent } = this.settings.outlier;
    let ejected = 0;
    for (const other of svc.stats.values()) if (other.ejectedUntil > now) ejected += 1;
    const allowed = Math.max(1, Math.floor((svc.stats.size * maxEjectedPercent) / 100));
    if (ejected >= allowed) return;
    // A long healthy stretch forgets past ejections.
    if (now - s.lastEjectedAt > maxEjectMs + ejectMs * s.ejections) s.ejections = 0;
    s.ejections += 1;
    s.lastEjectedAt = now;
    const ms = Math.min(maxEjectMs, ejectMs * s.ejections);
    s.ejectedUntil = now + ms;
    // Its old latency says nothing about it once back: on probation it is tried first.
    s.sampled = false;
    this.hooks.onEject?.(service, s.instance.id, ms, reason);
  }

  #service(name: string): ServiceBalance {
    let svc = this.#services.get(name);
    if (!svc) {
      svc = new ServiceBalance();
      this.#services.set(name, svc);
    }
    return svc;
  }
}

export type PickerOptions = {
  /** Which of a route's instances may take the request (all, or those of one major version). */
  select(route: Route): readonly Instance[];
  /** The subject used when the instances have no subject of their own (NATS picks). */
  shared: string;
  /** Whether the request may be sent twice (probation instances take only those). */
  idempotent: boolean;
  /** The route as it is now, for a retry or a hedge: instances may have come or gone since the first try. */
  current(): Route | null;
};

/**
 * One request's tries: each goes to an instance the request has not tried
 * yet, when one is available.
 */
export class Picker {
  #tried: string[] | null = null;
  #first: string | null = null;
  #candidates: readonly Instance[];
  readonly #service: string;

  constructor(
    private readonly balancer: Balancer,
    private readonly svc: ServiceBalance,
    route: Route,
    private readonly options: PickerOptions,
  ) {
    this.#service = route.service;
    this.#candidates = options.select(route);
  }

  /** How many instances may take the request. */
  get candidates(): number {
    return this.#candidates.length;
  }

  /** Whether the instances have subjects of their own (else every try goes to the shared subject). */
  get balanced(): boolean {
    return this.svc.balanced && this.#candidates.length > 0;
  }

  /** True when a hedge would reach an instance this request has not tried, and that may take it. */
  canHedge(): boolean {
    this.#refresh();
    if (!this.balanced || this.#candidates.length < 2) return false;
    return this.balancer.admits(this.svc, this.#candidates, this.#triedIds(), this.options.idempotent);
  }

  /** Sends one try with `fn` to the chosen instance's subject and books its outcome. */
  async send(ms: number, fn: (subject: string, ms: number) => Promise<Outcome>): Promise<Outcome> {
    const target = this.#next();
    if (target.stats === null) return fn(target.subject, ms);
    const s = target.stats;
    const started = this.balancer.begin(s);
    let outcome: Outcome;
    try {
      outcome = await fn(target.subject, ms);
    } catch (err) {
      s.inFlight -= 1;
      throw err;
    }
    this.balancer.end(this.svc, this.#service, s, outcome, started);
    return outcome;
  }

  #next(): Target {
    if (this.#first !== null) this.#refresh();
    if (!this.balanced) return { subject: this.options.shared, stats: null };
    const tried = this.#triedIds();
    const s = this.balancer.choose(this.svc, this.#candidates, tried, this.options.idempotent);
    if (s === null) return { subject: this.options.shared, stats: null };
    const id = s.instance.id;
    if (tried === null) this.#first = id;
    else tried.push(id);
    return { subject: s.instance.subject!, stats: s };
  }

  /** The ids this request already went to, null before its first try (made on the second: most requests have one). */
  #triedIds(): string[] | null {
    if (this.#first === null) return null;
    this.#tried ??= [this.#first];
    return this.#tried;
  }

  /** After the first try: the instances as they are now. */
  #refresh(): void {
    const route = this.options.current();
    if (!route || route.service !== this.#service) return;
    this.balancer.sync(this.#service, route.instances);
    this.#candidates = this.options.select(route);
  }
}

function stateOf(s: Stats, now: number): InstanceState {
  if (s.ejectedUntil > now) return "ejected";
  return s.ejectedUntil === 0 ? "healthy" : "probing";
}

/** Whether `s` may take a try at `level` (0 is the most particular). */
function eligible(
  s: Stats,
  level: number,
  tried: string[] | null,
  idempotent: boolean,
  now: number,
): boolean {
  if (level === 3) return true;
  const state = stateOf(s, now);
  if (state === "ejected") return false;
  if (level === 2) return true;
  if (tried?.includes(s.instance.id)) return false;
  if (level === 1) return true;
  // On probation: one try at a time, and only of a request that may go elsewhere if it fails.
  return state === "healthy" || (idempotent && s.inFlight === 0);
}

/** The least latency an estimate counts for: an instance with no answer yet is cheap, not free. */
const MIN_COST_MS = 0.5;

function score(s: Stats, now: number): number {
  // Tries in flight always count: an instance that never answered must not take every try.
  return Math.max(MIN_COST_MS, s.costAt(now)) * (s.inFlight + 1);
}
