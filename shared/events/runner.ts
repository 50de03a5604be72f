/**
 * Runs one consumer in a service: makes sure the durable consumer exists
 * (waiting for the producer's stream if it isn't there yet), pulls and handles
 * messages one at a time in stream order, and can pause, rebuild its
 * projection from the start of the stream, and replay a dead letter.
 */
import type { JsMsg } from "@nats-io/jetstream";
import { eq } from "drizzle-orm";
import type { Db } from "../db/index.ts";
import { MeshError } from "../errors/index.ts";
import {
  applyOnce,
  type ConsumerDefinition,
  type ConsumerRuntime,
  consumerSource,
  decodeEvent,
  handleBatch,
  NotForUs,
} from "./consumer.ts";
import { ensureDurable } from "./provision.ts";
import { PullLoop } from "./pull.ts";
import { readStream } from "./read-stream.ts";
import { deadLetters, inbox } from "./tables.ts";

type AnyDb = Db<Record<string, unknown>>;

/** Messages pulled at once (the server's window of deliveries in flight). */
const PULL_WINDOW = 256;

export class EventConsumer {
  private readonly pull: PullLoop;
  private gate: Promise<void> = Promise.resolve();
  private openGate: (() => void) | null = null;
  private current: Promise<unknown> = Promise.resolve();
  /** Messages taken and not yet in a batch: the next batch takes them all. */
  private readonly queue: JsMsg[] = [];
  private draining: Promise<void> | null = null;
  /** Counts by outcome, for metrics and tests. */
  readonly counts = { applied: 0, skipped: 0, retry: 0, dead: 0 };

  constructor(
    private readonly rt: ConsumerRuntime,
    readonly def: ConsumerDefinition,
  ) {
    const { stream } = consumerSource(def);
    this.pull = new PullLoop({
      open: async () => {
        await ensureDurable(rt.jsm, def, rt.logger);
        return rt.js.consumers.get(stream, def.name);
      },
      // The messages the server may have on their way at once. A small window left the
      // consumer waiting on its pulls' round trips while a backlog was being applied
      // (the event pipeline's rate, BENCHMARKS.md); a batch is still at most 64 events.
      maxMessages: PULL_WINDOW,
      take: (m) => {
        this.queue.push(m);
        this.draining ??= this.drain();
      },
      settle: async () => {
        await this.draining;
      },
      logger: rt.logger,
      fields: { consumer: def.name },
      warning: "consumer not running yet; retrying",
    });
  }

  start(): void {
    this.pull.start();
  }

  async stop(): Promise<void> {
    await this.pull.stop(async () => {
      this.openGate?.();
      await this.current.catch(() => {});
    });
  }

  /** Applies the queued messages in batches of up to 64, one after another in stream order. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0 && this.pull.running) {
      await this.gate;
      if (!this.pull.running) break;
      const batch = this.queue.splice(0, 64);
      this.current = handleBatch(this.rt, this.def, batch).then((outcomes) => {
        for (const o of outcomes) this.counts[o]++;
      });
      await this.current;
    }
    this.draining = null;
  }

  /** Holds new messages until `resume()`; resolves once the one in hand is done. */
  async pause(): Promise<void> {
    if (!this.openGate) this.gate = new Promise((resolve) => (this.openGate = resolve));
    await this.current.catch(() => {});
  }

  resume(): void {
    const open = this.openGate;
    this.openGate = null;
    open?.();
  }

  /**
   * Clears the projection (the definition's `reset`) and this consumer's inbox,
   * then re-applies every event of the stream from the start. Returns how many
   * events were applied.
   */
  async rebuild(): Promise<{ applied: number }> {
    const reset = this.def.reset;
    if (!reset) throw new MeshError(409, { detail: `${this.def.name} has no reset; it cannot be rebuilt` });
    const { stream, subjects } = consumerSource(this.def);
    await this.pause();
    try {
      await this.rt.store.write(async (tx) => {
        await reset(tx as never);
        await (tx as AnyDb).delete(inbox).where(eq(inbox.consumer, this.def.name)).run();
      });
      // One filter subject: servers before 2.10 take one.
      const filter =
        subjects.length === 1
          ? (subjects[0] as string)
          : `${subjects[0]?.split(".").slice(0, 2).join(".")}.>`;
      let applied = 0;
      const logger = this.rt.logger.child({ consumer: this.def.name, rebuild: true });
      for await (const m of readStream(this.rt.jsm, stream, filter)) {
        try {
          const event = decodeEvent(this.def, m.data);
          const traceparent = m.header?.get("traceparent") || undefined;
          if (await applyOnce(this.rt.store, this.def, event, { traceparent, deliveries: 1, logger }))
            applied++;
        } catch (err) {
          if (!(err instanceof NotForUs))
            logger.warn({ err: String(err), seq: m.seq }, "event skipped during rebuild");
        }
      }
      return { applied };
    } finally {
      this.resume();
    }
  }

  /** Re-applies a dead-lettered event (once); marks it replayed. */
  async replayDeadLetter(id: number): Promise<{ applied: boolean }> {
    const db = this.rt.store.db as AnyDb;
    const row = await db.select().from(deadLetters).where(eq(deadLetters.id, id)).get();
    if (!row || row.consumer !== this.def.name) {
      throw new MeshError(404, { detail: `no dead letter ${id} for ${this.def.name}` });
    }
    const event = decodeEvent(this.def, new TextEncoder().encode(row.body));
    const applied = await applyOnce(this.rt.store, this.def, event, {
      traceparent: undefined,
      deliveries: row.deliveries + 1,
      logger: this.rt.logger.child({ consumer: this.def.name, replay: id }),
    }).catch((err) => {
      throw new MeshError(409, {
        detail: `the handler failed again (${err instanceof Error ? err.message : String(err)}); the event stays dead-lettered`,
      });
    });
    await this.rt.store.write((tx) =>
      (tx as AnyDb).update(deadLetters).set({ replayedAt: Date.now() }).where(eq(deadLetters.id, id)).run(),
    );
    return { applied };
  }
}
