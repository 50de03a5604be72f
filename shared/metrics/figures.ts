/**
 * A service's event and task figures, read when someone asks (a Prometheus
 * scrape, a `$SRV.STATS` request): the outbox backlog, per consumer what
 * JetStream still holds for it and how many events it dead-lettered, and its
 * task queue (task-figures.ts). One reading is shared for `cacheMs`, so
 * frequent scrapes cost one JetStream request per consumer, a few for the
 * task queue and three small queries per second at most.
 */
import type { JetStreamManager } from "@nats-io/jetstream";
import { count, isNull } from "drizzle-orm";
import type { Db, Store } from "../db/index.ts";
import { deadLetters, type EventConsumer, type OutboxRelay, streamName } from "../events/index.ts";
import type { ServiceStatsData, TaskStatsData } from "../protocol/levels.ts";

export type { ServiceStatsData };

export type FiguresOptions = {
  store: Store<Record<string, unknown>>;
  relay: OutboxRelay | null;
  consumers: EventConsumer[];
  /** JetStream manager for consumer info; its request timeout bounds a reading. */
  jsm: () => Promise<JetStreamManager>;
  /** How long one reading is reused (default 1000 ms). */
  cacheMs?: number;
  /** Its task figures (task-figures.ts `taskFigures`); none when absent. */
  tasks?: () => Promise<TaskStatsData | null>;
};

export type ServiceFigures = {
  /** The current figures (a reading at most `cacheMs` old). */
  read(): Promise<ServiceStatsData>;
};

type ConsumerState = { pending: number; ackPending: number; redelivered: number };

/**
 * Reads a service's event figures on demand, cached.
 *
 * @example
 * const figures = serviceFigures({ store, relay, consumers, jsm: () => jetstreamManager(nc) });
 * const { outbox, consumers } = await figures.read();
 */
export function serviceFigures(o: FiguresOptions): ServiceFigures {
  const cacheMs = o.cacheMs ?? 1000;
  // Last known JetStream state per consumer: kept when a reading fails (NATS down), 0 before the first.
  const known = new Map<string, ConsumerState>();
  let cached: { at: number; value: Promise<ServiceStatsData> } | null = null;

  async function consumerState(c: EventConsumer): Promise<ConsumerState> {
    const stream = streamOf(c);
    try {
      const info = await (await o.jsm()).consumers.info(stream, c.def.name);
      const state = {
        pending: info.num_pending,
        ackPending: info.num_ack_pending,
        redelivered: info.num_redelivered,
      };
      known.set(c.def.name, state);
      return state;
    } catch {
      return known.get(c.def.name) ?? { pending: 0, ackPending: 0, redelivered: 0 };
    }
  }

  async function deadByConsumer(): Promise<Map<string, number>> {
    if (o.consumers.length === 0) return new Map();
    // Dead letters not yet replayed: the ones an operator still has to look at.
    const rows = await (o.store.db as Db<Record<string, unknown>>)
      .select({ consumer: deadLetters.consumer, n: count() })
      .from(deadLetters)
      .where(isNull(deadLetters.replayedAt))
      .groupBy(deadLetters.consumer);
    return new Map(rows.map((r) => [r.consumer, r.n]));
  }

  async function measure(): Promise<ServiceStatsData> {
    const [backlog, dead, states, tasks] = await Promise.all([
      o.relay?.backlog() ?? null,
      deadByConsumer(),
      Promise.all(o.consumers.map(consumerState)),
      o.tasks?.() ?? null,
    ]);
    return {
      outbox: backlog
        ? { backlog: backlog.count, oldestAgeMs: backlog.count > 0 ? backlog.oldestAgeMs : null }
        : null,
      consumers: o.consumers.map((c, i) => ({
        name: c.def.name,
        stream: streamOf(c),
        ...(states[i] as ConsumerState),
        dead: dead.get(c.def.name) ?? 0,
      })),
      ...(tasks ? { tasks } : {}),
    };
  }

  return {
    read() {
      const now = Date.now();
      if (cached && now - cached.at < cacheMs) return cached.value;
      const value = measure();
      cached = { at: now, value };
      // A failed reading is not reused.
      value.catch(() => {
        if (cached?.value === value) cached = null;
      });
      return value;
    },
  };
}

function streamOf(c: EventConsumer): string {
  const first = c.def.events[0];
  return first ? streamName(first.service) : "";
}
