/**
 * The pull loop the kit's durable consumers share (event consumers, the task
 * worker and the task results runner): open the durable (waiting for its
 * stream when it is not there yet), pull with a short lifetime so a lost
 * consumer leader is noticed within seconds, hand each message over in order
 * (the next is taken only once the last was taken: back-pressure), and pull
 * again with a growing pause after a failure, until stopped.
 */
import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import type { Logger } from "../log/logger.ts";

export type PullLoopOptions = {
  /** Makes sure the stream and the durable exist, and returns the durable. */
  open(): Promise<Consumer>;
  /** Messages pulled at once. */
  maxMessages: number;
  /** Takes one message; the loop takes the next once this resolves. */
  take(m: JsMsg): Promise<void> | void;
  /** Awaited when the messages end, before the loop pulls again or ends. */
  settle?(): Promise<void>;
  logger: Logger;
  /** What names the consumer in the warning logged while it cannot pull. */
  fields: Record<string, unknown>;
  /** That warning. */
  warning: string;
};

/** How long one pull request lives: a lost consumer leader (a NATS node dying) is noticed within ~5 s, not 30. */
const PULL_EXPIRES_MS = 5_000;

/**
 * Pulls from one durable until stopped.
 *
 * @example
 * const pull = new PullLoop({ open, maxMessages: 64, take: (m) => handle(m), logger, fields: { consumer }, warning: "consumer not running yet; retrying" });
 * pull.start();
 * await pull.stop();
 */
export class PullLoop {
  #running = false;
  #loop: Promise<void> = Promise.resolve();
  #messages: ConsumerMessages | null = null;

  constructor(private readonly o: PullLoopOptions) {}

  /** True from `start()` until `stop()`. */
  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /**
   * Stops pulling; `halted` runs once no new message will be taken (finish
   * the ones in hand there), and the loop's end is awaited after it.
   */
  async stop(halted?: () => Promise<unknown>): Promise<void> {
    this.#running = false;
    await this.#messages?.close().catch(() => {});
    await halted?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (this.#running) {
      try {
        const consumer = await this.o.open();
        this.#messages = await consumer.consume({
          max_messages: this.o.maxMessages,
          expires: PULL_EXPIRES_MS,
        });
        // Stopped while the pull was being set up: nobody else will close it.
        if (!this.#running) await this.#messages.close().catch(() => {});
        failures = 0;
        for await (const m of this.#messages) {
          if (!this.#running) break;
          await this.o.take(m);
        }
        await this.o.settle?.();
      } catch (err) {
        if (!this.#running) break;
        failures++;
        const wait = Math.min(5000, 200 * 2 ** Math.min(failures, 5));
        this.o.logger.warn({ ...this.o.fields, err: String(err), retryInMs: wait }, this.o.warning);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }
}
