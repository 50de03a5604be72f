/**
 * The edge's live route table: which instances serve which path prefix. Pure
 * bookkeeping, no NATS: discovery feeds it registrations, removals and sweep
 * results; the proxy asks it for the route of a path.
 */

import type { Logger } from "@runnerly/kit/web";
import { parsePublicRoutes, type ServiceLevels } from "@runnerly/kit/web";
import type { Registration } from "./registration.ts";

/** One running instance behind a route; `subject` is its own (`svc.<name>.http.<id>`), null when it has none. */
export type Instance = { id: string; version: string; subject: string | null };

/** A routable prefix and where its requests go. */
export type Route = {
  prefix: string;
  service: string;
  /** Subject of the service's `http` endpoint. */
  subject: string;
  /** Known live instances; empty while the service is down but recently seen (requests get 503, not 404). */
  instances: Instance[];
  /** Routes the service lets through without a verified caller (`http.public`). */
  publicRoutes: PublicRoute[];
  /** The objectives the service declares (its newest instance's `slo.*` metadata). */
  levels: ServiceLevels;
  /** Its running major versions, lowest first: where a request for one major goes (null: no versioned endpoint). */
  versions: VersionGroup[];
};

export type VersionGroup = { major: number; subject: string | null; instances: Instance[] };

export type PublicRoute = { method: string; pattern: string[] };

/** What the rest of the edge may do with the table. */
export interface RouteView {
  /** The route with the longest prefix matching `path`, or null. */
  match(path: string): Route | null;
  /** Every route, longest prefix first. */
  list(): Route[];
}

export type RouteTableOptions = {
  logger: Logger;
  /** Conclusive sweeps an instance may miss before it is dropped (default 2: one slow reply is not a death). */
  maxMisses?: number;
  /** How long a route with no instances is kept, so clients see 503 rather than 404 (default 5 min). */
  emptyRouteTtlMs?: number;
  /**
   * How long after an instance announced it stopped its INFO replies are not believed (one sent
   * just before it stopped may arrive after); one that still answers later is routed again, so a
   * false "stopped" keeps a live instance out no longer than this and a sweep (default 3 s).
   */
  tombstoneTtlMs?: number;
  /** Told when an instance id is seen for the first time (a new process: e.g. worth closing an open circuit). */
  onInstanceUp?: (service: string, id: string) => void;
  now?: () => number;
};

type Entry = Registration & { seenInSweep: number; misses: number; seenAt: number };
type Known = {
  service: string;
  subject: string;
  publicRoutes: PublicRoute[];
  levels: ServiceLevels;
  emptySince: number | null;
};

/**
 * Instances keyed by id, grouped into routes by prefix. Routes are rebuilt on
 * every change (changes are rare, lookups are per request) and kept sorted by
 * prefix length, so the first match is the longest.
 *
 * @example
 * const table = new RouteTable({ logger });
 * table.upsert({ id, name: "runs", version: "1.0.0", prefix: "/api/runs", subject: "svc.runs.http" });
 * table.match("/api/runs/42")?.subject; // "svc.runs.http"
 */
export class RouteTable implements RouteView {
  readonly #instances = new Map<string, Entry>();
  /** `<name> <id>` of instances that said they stopped → until when their INFO replies are ignored. */
  readonly #tombstones = new Map<string, number>();
  readonly #known = new Map<string, Known>();
  #routes: Route[] = [];
  #sweep = 0;
  readonly #log: Logger;
  readonly #maxMisses: number;
  readonly #emptyRouteTtlMs: number;
  readonly #tombstoneTtlMs: number;
  readonly #now: () => number;
  readonly #onInstanceUp: ((service: string, id: string) => void) | undefined;

  constructor(options: RouteTableOptions) {
    this.#onInstanceUp = options.onInstanceUp;
    this.#log = options.logger;
    this.#maxMisses = options.maxMisses ?? 2;
    this.#emptyRouteTtlMs = options.emptyRouteTtlMs ?? 300_000;
    this.#tombstoneTtlMs = options.tombstoneTtlMs ?? 3_000;
    this.#now = options.now ?? Date.now;
  }

  match(path: string): Route | null {
    for (const route of this.#routes) {
      const p = route.prefix;
      if (p === "/" || path === p || (path.startsWith(p) && path.charCodeAt(p.length) === 47)) return route;
    }
    return null;
  }

  /** The route of a service (its first, when it has several prefixes), or undefined. */
  service(name: string): Route | undefined {
    return this.#routes.find((r) => r.service === name);
  }

  list(): Route[] {
    return this.#routes.map((r) => ({ ...r, instances: r.instances.map((i) => ({ ...i })) }));
  }

  /** Adds or refreshes an instance; ignored for a while after that instance announced it stopped. */
  upsert(reg: Registration): void {
    const tombstone = tombstoneKey(reg.name, reg.id);
    const until = this.#tombstones.get(tombstone);
    if (until !== undefined) {
      if (this.#now() < until) return;
      this.#tombstones.delete(tombstone);
      this.#log.warn({ service: reg.name, id: reg.id }, "instance answers after it announced it stopped");
    }
    const old = this.#instances.get(reg.id);
    this.#instances.set(reg.id, {
      ...reg,
      seenInSweep: this.#sweep,
      misses: 0,
      seenAt: old?.seenAt ?? this.#now(),
    });
    if (
      old &&
      old.prefix === reg.prefix &&
      old.subject === reg.subject &&
      old.version === reg.version &&
      old.publicRoutes === reg.publicRoutes &&
      old.versionSubject === reg.versionSubject &&
      old.instanceSubject === reg.instanceSubject &&
      JSON.stringify(old.levels) === JSON.stringify(reg.levels)
    )
      return;
    this.#log.info(
      { service: reg.name, id: reg.id, version: reg.version, prefix: reg.prefix },
      "instance up",
    );
    this.#rebuild();
    if (!old) this.#onInstanceUp?.(reg.name, reg.id);
  }

  /** Drops an instance that said it stopped, and ignores its INFO replies for `tombstoneTtlMs`. */
  remove(name: string, id: string): void {
    this.#tombstones.set(tombstoneKey(name, id), this.#now() + this.#tombstoneTtlMs);
    const entry = this.#instances.get(id);
    if (!entry || entry.name !== name) return;
    this.#instances.delete(id);
    this.#log.info({ service: name, id }, "instance stopped");
    this.#rebuild();
  }

  /**
   * Drops an instance nobody listens for any more (a fresh PING found none), without
   * remembering its id: a process reconnecting to another NATS node answers the next
   * sweep and comes back.
   */
  drop(name: string, id: string): void {
    const entry = this.#instances.get(id);
    if (!entry || entry.name !== name) return;
    this.#instances.delete(id);
    this.#log.warn({ service: name, id }, "instance has no subscription left");
    this.#rebuild();
  }

  /** Drops every instance of a service (a fresh PING found none). */
  removeService(name: string): void {
    const gone = [...this.#instances.values()].filter((e) => e.name === name);
    for (const e of gone) this.#instances.delete(e.id);
    if (gone.length === 0) return;
    this.#log.warn({ service: name, instances: gone.map((e) => e.id) }, "service has no live instance");
    this.#rebuild();
  }

  /** Starts a sweep; instances upserted from now on count as seen by it. */
  beginSweep(): number {
    this.#sweep += 1;
    return this.#sweep;
  }

  /**
   * Ends a sweep. `answered`: instances it did not see get a miss and are dropped
   * after `maxMisses`. `none`: the server said no service exists, so all go.
   * Returns the instances that missed it and were kept, for a closer look.
   */
  endSweep(sweep: number, outcome: "answered" | "none"): { name: string; id: string }[] {
    let changed = false;
    const missed: { name: string; id: string }[] = [];
    for (const e of this.#instances.values()) {
      if (e.seenInSweep >= sweep) continue;
      e.misses += 1;
      if (outcome === "none" || e.misses >= this.#maxMisses) {
        this.#instances.delete(e.id);
        this.#log.warn({ service: e.name, id: e.id }, "instance stopped answering");
        changed = true;
      } else {
        missed.push({ name: e.name, id: e.id });
      }
    }
    const now = this.#now();
    // Kept one more TTL past expiry, so that an instance coming back is told apart (and logged).
    for (const [key, until] of this.#tombstones)
      if (until + this.#tombstoneTtlMs <= now) this.#tombstones.delete(key);
    // Rebuilding also expires routes that stayed empty too long.
    if (changed || this.#routes.some((r) => r.instances.length === 0)) this.#rebuild();
    return missed;
  }

  #rebuild(): void {
    const byPrefix = new Map<string, Entry[]>();
    for (const e of this.#instances.values()) {
      const group = byPrefix.get(e.prefix);
      if (group) group.push(e);
      else byPrefix.set(e.prefix, [e]);
    }
    const routes: Route[] = [];
    for (const [prefix, entries] of byPrefix) {
      const route = this.#pick(prefix, entries);
      this.#known.set(prefix, {
        service: route.service,
        subject: route.subject,
        publicRoutes: route.publicRoutes,
        levels: route.levels,
        emptySince: null,
      });
      routes.push(route);
    }
    const now = this.#now();
    for (const [prefix, known] of this.#known) {
      if (byPrefix.has(prefix)) continue;
      known.emptySince ??= now;
      if (now - known.emptySince >= this.#emptyRouteTtlMs) this.#known.delete(prefix);
      else
        routes.push({
          prefix,
          service: known.service,
          subject: known.subject,
          instances: [],
          publicRoutes: known.publicRoutes,
          levels: known.levels,
          versions: [],
        });
    }
    routes.sort((a, b) => b.prefix.length - a.prefix.length || a.prefix.localeCompare(b.prefix));
    this.#routes = routes;
  }

  /** One prefix, one destination: when instances disagree (a misconfiguration), the larger group wins. */
  #pick(prefix: string, entries: Entry[]): Route {
    const groups = new Map<string, Entry[]>();
    for (const e of entries) {
      const key = `${e.name} ${e.subject}`;
      groups.set(key, [...(groups.get(key) ?? []), e]);
    }
    const ranked = [...groups.values()].sort(
      (a, b) => b.length - a.length || a[0]!.id.localeCompare(b[0]!.id),
    );
    const chosen = ranked[0]!;
    if (ranked.length > 1) {
      const claims = ranked.map((g) => ({
        service: g[0]!.name,
        subject: g[0]!.subject,
        instances: g.length,
      }));
      this.#log.warn({ prefix, claims }, "several services claim one prefix; routing to the largest");
    }
    const instances = chosen
      .map((e) => ({ id: e.id, version: e.version, subject: e.instanceSubject }))
      .sort((a, b) => a.id.localeCompare(b.id));
    // The newest declaration wins (during a rolling upgrade the public set may change).
    const newest = [...chosen].sort((a, b) => b.seenAt - a.seenAt)[0]!;
    return {
      prefix,
      service: chosen[0]!.name,
      subject: chosen[0]!.subject,
      instances,
      publicRoutes: parsePublicRoutes(newest.publicRoutes),
      levels: newest.levels,
      versions: versionGroups(chosen),
    };
  }
}

/** Names and ids are ADR-32 names (no spaces): a stop said for one service never touches another's instance. */
const tombstoneKey = (name: string, id: string): string => `${name} ${id}`;

/** Instances by major version; a major is addressable when its instances serve `http-v<major>`. */
function versionGroups(entries: Entry[]): VersionGroup[] {
  const byMajor = new Map<number, Entry[]>();
  for (const e of entries) {
    if (e.major === null) continue;
    byMajor.set(e.major, [...(byMajor.get(e.major) ?? []), e]);
  }
  return [...byMajor.entries()]
    .sort(([a], [b]) => a - b)
    .map(([major, group]) => ({
      major,
      subject: group.find((e) => e.versionSubject)?.versionSubject ?? null,
      instances: group
        .map((e) => ({ id: e.id, version: e.version, subject: e.instanceSubject }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    }));
}
