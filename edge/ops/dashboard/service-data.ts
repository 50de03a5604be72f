/**
 * The figures a kit service adds to its `$SRV.STATS` endpoint `data`: its
 * outbox backlog and its consumers' lag. Foreign ADR-32 services report
 * none (or something else), so every reply is checked and anything that is
 * not this shape is ignored.
 */
import type { ConsumerView, OutboxView } from "./types.ts";

export type ServiceData = { outbox: OutboxView | null; consumers: ConsumerView[] };

/**
 * The first endpoint `data` of a STATS reply that has the kit's shape, or null.
 *
 * @example
 * readServiceData([{ name: "http", data: { outbox: null, consumers: [] } }]); // { outbox: null, consumers: [] }
 */
export function readServiceData(endpoints: readonly { data?: unknown }[]): ServiceData | null {
  for (const e of endpoints) {
    const parsed = parse(e.data);
    if (parsed) return parsed;
  }
  return null;
}

function parse(data: unknown): ServiceData | null {
  if (!isRecord(data) || !("outbox" in data) || !Array.isArray(data.consumers)) return null;
  let outbox: OutboxView | null = null;
  if (data.outbox !== null) {
    const o = data.outbox;
    if (!isRecord(o) || !isCount(o.backlog)) return null;
    if (o.oldestAgeMs !== null && !isCount(o.oldestAgeMs)) return null;
    outbox = { backlog: o.backlog, oldestAgeMs: o.oldestAgeMs };
  }
  const consumers: ConsumerView[] = [];
  for (const c of data.consumers) {
    if (!isRecord(c) || typeof c.name !== "string" || typeof c.stream !== "string") return null;
    const { pending, ackPending, redelivered, dead } = c;
    if (![pending, ackPending, redelivered, dead].every(isCount)) return null;
    consumers.push({
      name: c.name,
      stream: c.stream,
      pending: pending as number,
      ackPending: ackPending as number,
      redelivered: redelivered as number,
      dead: dead as number,
    });
  }
  return { outbox, consumers };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}
