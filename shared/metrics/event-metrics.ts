/**
 * The event side of a service's metrics: outbox backlog and age, events
 * published, consumer state in JetStream, outcomes and dead letters. Gauges are
 * read at scrape time from one cached reading of the service's figures.
 */
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type { EventConsumer, OutboxRelay } from "../events/index.ts";
import type { ServiceFigures, ServiceStatsData } from "./figures.ts";
import { Counter, Gauge, type Registry } from "./prom.ts";

export type EventMetricsOptions = { relay: OutboxRelay | null; consumers: EventConsumer[] };

/** One JetStream manager, made on first use, whose requests give up after `timeout` ms. */
export function lazyJsm(nc: NatsConnection, timeout: number): () => Promise<JetStreamManager> {
  let jsm: Promise<JetStreamManager> | null = null;
  return () => {
    jsm ??= jetstreamManager(nc, { timeout, checkAPI: false }).catch((err) => {
      jsm = null;
      throw err;
    });
    return jsm;
  };
}

/** Gauges and counters read from the service's outbox, consumers and dead letters at scrape time. */
export function registerEventMetrics(
  o: EventMetricsOptions,
  figures: ServiceFigures,
  registers: Registry[],
): void {
  // A failed reading (the store closing) leaves the last values rather than failing the scrape.
  const read = () => figures.read().catch(() => null);
  if (o.relay) {
    const relay = o.relay;
    new Gauge({
      name: "runnerly_outbox_backlog",
      help: "Events committed to the outbox and not yet published.",
      registers,
      async collect() {
        const f = await read();
        if (f) this.set(f.outbox?.backlog ?? 0);
      },
    });
    new Gauge({
      name: "runnerly_outbox_oldest_age_seconds",
      help: "Age of the oldest unpublished outbox event (0 when none waits).",
      registers,
      async collect() {
        const f = await read();
        if (f) this.set((f.outbox?.oldestAgeMs ?? 0) / 1000);
      },
    });
    new Counter({
      name: "runnerly_events_published_total",
      help: "Events this instance's relay published to JetStream (PubAck received).",
      registers,
      collect() {
        this.reset();
        this.inc(relay.published);
      },
    });
  }
  const perConsumer = (
    name: string,
    help: string,
    pick: (c: ServiceStatsData["consumers"][number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["consumer"] as const,
      registers,
      async collect() {
        const f = await read();
        if (!f) return;
        this.reset();
        for (const c of f.consumers) this.set({ consumer: c.name }, pick(c));
      },
    });
  perConsumer(
    "runnerly_consumer_pending",
    "Events in the stream not yet delivered to the consumer (JetStream num_pending).",
    (c) => c.pending,
  );
  perConsumer(
    "runnerly_consumer_ack_pending",
    "Events delivered to the consumer and not yet acknowledged (JetStream num_ack_pending).",
    (c) => c.ackPending,
  );
  perConsumer(
    "runnerly_consumer_redelivered",
    "Events redelivered and not yet acknowledged (JetStream num_redelivered).",
    (c) => c.redelivered,
  );
  perConsumer(
    "runnerly_dead_letters",
    "Dead-lettered events of the consumer not yet replayed.",
    (c) => c.dead,
  );
  const consumers = o.consumers;
  new Counter({
    name: "runnerly_consumer_messages_total",
    help: "Messages handled by each consumer of this instance, by outcome (applied, skipped, retry, dead).",
    labelNames: ["consumer", "outcome"] as const,
    registers,
    collect() {
      this.reset();
      for (const c of consumers) {
        for (const [outcome, n] of Object.entries(c.counts)) this.inc({ consumer: c.def.name, outcome }, n);
      }
    },
  });
}
