/**
 * Runs one consumer in a service: makes sure the durable consumer exists
 * (waiting for the producer's stream if it isn't there yet), pulls and handles
 * messages one at a time in stream order, and can pause, rebuild its
 * projection from the start of the stream, and replay a dead letter.
 */
import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
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
import { readStream } from "./read-stream.ts";
import { deadLetters, inbox } from "./tables.ts";

type AnyDb = Db<Record<string, unknown>>;

export class EventConsumer {
  private running = false;
  private loop: Promise<void> | null = null;
  private messages: ConsumerMessages | null = null;
  private gate: Promise<void> = Promise.resolve();
  private openGate: (() => void) | null = null;
  private current: Promise<unknown> = Promise.resolve();
  /** Counts by outcome, for metrics and tests. */
  readonly counts = { applied: 0, skipped: 0, retry: 0, dead: 0 };

  constructor(
    private readonly rt: ConsumerRuntime,
    readonly def: ConsumerDefinition,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.openGate?.();
    await this.messages?.close().catch(() => {});
    await this.current.catch(() => {});
    await this.loop;
  }

  private async run(): Promise<void> {
    const { stream } = consumerSource(this.def);
    let failures = 0;
    while (this.running) {
      try {
        await ensureDurable(this.rt.jsm, this.def, this.rt.logger);
        const consumer = await this.rt.js.consumers.get(stream, this.def.name);
        // A short pull lifetime: a lost consumer leader (a NATS node dying) is noticed within ~5 s, not 30.
        this.messages = await consumer.consume({ max_messages: 64, expires: 5_000 });
        failures = 0;
        // Messages queue up while a batch is being applied; the next batch takes them all.
        const queue: JsMsg[] = [];
        let draining: Promise<void> | null = null;
        const drain = async () => {
          while (queue.length > 0 && this.running) {
            await this.gate;
            if (!this.running) break;
            const batch = queue.splice(0, 64);
            this.current = handleBatch(this.rt, this.def, batch).then((outcomes) => {
              for (const o of outcomes) this.counts[o]++;
            });
            await this.current;
          }
          draining = null;
        };
        for await (const m of this.messages) {
          if (!this.running) break;
          queue.push(m);
          draining ??= drain();
        }
        await draining;
      } catch (err) {
        if (!this.running) break;
        failures++;
        const wait = Math.min(5000, 200 * 2 ** Math.min(failures, 5));
        this.rt.logger.warn(
          { consumer: this.def.name, err: String(err), retryInMs: wait },
          "consumer not running yet; retrying",
        );
        await new Promise((r) => setTimeout(r, wait));
      }
    }
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
