/**
 * Service discovery over the NATS Services API (ADR-32). Three inputs keep the
 * route table live: a `$SRV.INFO` sweep at start and then periodically (finds
 * services that never announce, drops those that stopped answering: an
 * instance that misses one sweep is pinged at `$SRV.PING.<name>.<id>` and
 * dropped if nobody listens there), the announce subjects `mesh.announce.<name>`
 * (a start or stop shows up at once; announcements.ts), and a `$SRV.PING.<name>`
 * (or `.<name>.<id>`) check when a request found no responders. With the
 * default 1 s sweep, a service appears and disappears within 2 s even if it
 * never announces.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { ServiceVerb } from "@nats-io/services";
import type { Announcement, Logger } from "@runnerly/kit/web";
import { listenForAnnouncements } from "./announcements.ts";
import { type ClaimPolicy, isAdr32Name, toRegistration } from "./registration.ts";
import type { RouteTable } from "./route-table.ts";
import { querySrv, type SrvOutcome } from "./srv-query.ts";

export type DiscoveryOptions = {
  nc: NatsConnection;
  table: RouteTable;
  logger: Logger;
  /** Pause between the end of one sweep and the start of the next. */
  sweepIntervalMs: number;
  /** How long a `$SRV` query waits for its first reply; later ones are awaited 300 ms after the previous. */
  queryWaitMs?: number;
  /** Which prefixes each service may claim (default: its own, `/api/<name>`). */
  claims?: ClaimPolicy;
};

export type Discovery = {
  /** Settles once the first sweep is done (never rejects; failures are logged). */
  ready: Promise<void>;
  /** After a no-responders reply: drops the service's instances if a fresh `$SRV.PING.<name>` finds none. */
  checkService(name: string): void;
  /** After a no-responders reply on one instance's subject: drops it if `$SRV.PING.<name>.<id>` finds nobody. */
  checkInstance(name: string, id: string): void;
  /** Stops sweeping and listening, and waits for queries in flight. */
  close(): Promise<void>;
};

/**
 * Starts discovery and returns at once; await `ready` for the first sweep.
 *
 * @example
 * const table = new RouteTable({ logger });
 * const discovery = startDiscovery({ nc, table, logger, sweepIntervalMs: 1000 });
 * await discovery.ready;
 */
export function startDiscovery(options: DiscoveryOptions): Discovery {
  const { nc, table, logger: log, sweepIntervalMs } = options;
  const queryWaitMs = options.queryWaitMs ?? 2000;
  const pending = new Set<Promise<void>>();
  const checking = new Set<string>();
  const reported = new Set<string>();
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  // Subscribed before the first sweep (and flushed below) so no start is missed in between.
  const announcements = listenForAnnouncements({ nc, logger: log, onAnnouncement });

  function onAnnouncement(a: Announcement): void {
    // A stop is believed at once but only for a while (RouteTable's tombstone): an instance
    // that still answers the sweep after that is routed again.
    if (a.event === "stopped") table.remove(a.name, a.id);
    else background("info query", () => query(`$SRV.${ServiceVerb.INFO}.${a.name}`, upsert));
  }

  function upsert(info: unknown): void {
    const reg = toRegistration(info, options.claims);
    if (reg === null) return;
    if (!("invalid" in reg)) {
      table.upsert(reg);
      return;
    }
    // Say it once per instance, not once per sweep.
    if (reported.size > 1000) reported.clear();
    if (!reported.has(reg.id)) log.warn({ service: reg.name, id: reg.id, why: reg.invalid }, "not routable");
    reported.add(reg.id);
  }

  function query(subject: string, onReply: (body: unknown) => void): Promise<SrvOutcome> {
    return querySrv(
      nc,
      subject,
      (body) => {
        if (body === undefined) log.warn({ subject }, "ignoring a reply that is not JSON");
        else onReply(body);
      },
      queryWaitMs,
    );
  }

  async function sweep(): Promise<void> {
    const n = table.beginSweep();
    const outcome = await query(`$SRV.${ServiceVerb.INFO}`, upsert);
    if (outcome === "silent") {
      log.debug({}, "no answer to $SRV.INFO; route table kept as is");
      return;
    }
    // One missed sweep may be a slow reply; the server knows at once whether anyone is still
    // subscribed, so a dead instance goes now rather than a sweep later.
    for (const { name, id } of table.endSweep(n, outcome)) {
      background("ping", async function confirmInstance() {
        if ((await query(`$SRV.${ServiceVerb.PING}.${name}.${id}`, () => {})) === "none")
          table.remove(name, id);
      });
    }
  }

  function scheduleSweep(): void {
    if (closed || nc.isClosed()) return;
    timer = setTimeout(function sweepAgain() {
      void background("sweep", sweep).then(scheduleSweep);
    }, sweepIntervalMs);
  }

  function checkService(name: string): void {
    if (isAdr32Name(name)) confirmNobody(`$SRV.${ServiceVerb.PING}.${name}`, () => table.removeService(name));
  }

  function checkInstance(name: string, id: string): void {
    // Not remembered as stopped: a process reconnecting to another node comes back with the next sweep.
    if (isAdr32Name(name) && isAdr32Name(id))
      confirmNobody(`$SRV.${ServiceVerb.PING}.${name}.${id}`, () => table.drop(name, id));
  }

  /** Pings `subject` once at a time; `gone` runs when the server says nobody listens there. */
  function confirmNobody(subject: string, gone: () => void): void {
    if (closed || checking.has(subject)) return;
    checking.add(subject);
    background("ping", async function confirmGone() {
      try {
        if ((await query(subject, () => {})) === "none") gone();
      } finally {
        checking.delete(subject);
      }
    });
  }

  /** Runs a task in the background: a failure is logged, never thrown, and close() waits for it. */
  function background(what: string, task: () => Promise<unknown>): Promise<void> {
    const p = task().then(
      () => {},
      (err: unknown) => {
        if (!closed) log.error({ err: String(err) }, `discovery ${what} failed`);
      },
    );
    pending.add(p);
    void p.then(() => pending.delete(p));
    return p;
  }

  const ready = (async function firstSweep() {
    try {
      await nc.flush();
    } catch (err) {
      log.error({ err: String(err) }, "discovery could not reach NATS");
    }
    await background("sweep", sweep);
    scheduleSweep();
  })();

  async function close(): Promise<void> {
    closed = true;
    clearTimeout(timer);
    if (!nc.isClosed()) announcements.unsubscribe();
    await ready;
    await Promise.all([...pending]);
  }

  return { ready, checkService, checkInstance, close };
}
