/**
 * The workers of one edge (Bun's pool: processes sharing a port, the kernel
 * spreading connections) each count only what they answered. So that every
 * worker shows the same figures, the one answering a dashboard or `/_/slo`
 * request asks all of them, itself included, on `edge.<pool id>.figures`
 * for their counts up to the same whole second, and sums them in worker
 * order: two workers answering at the same second sum the same numbers.
 * One gather per second serves every request of that second (a pool sums
 * whole seconds, over for every worker). An edge that runs as one process
 * (Deno, workerd, tests) reads its own counts up to now at each request. Web standards only.
 */
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import type { Logger } from "@runnerly/kit/web";
import type { SloCounts } from "../slo/tracker.ts";
import type { Step } from "./series.ts";
import type { CircuitStateName } from "./types.ts";
import type { Cell } from "./window.ts";

/** This process as one worker of an edge's pool. */
export type PoolMember = {
  /** The pool's id, shared by its workers (a NATS subject token). */
  id: string;
  /** This worker's name within the pool (`0`, `1`, …). */
  worker: string;
  /** How many workers the pool runs. */
  size: number;
};

/** One worker's counts up to a second, as it sends them to its siblings. */
export type WorkerFigures = {
  worker: string;
  /** When its windows started counting (ms since the epoch). */
  since: number;
  slo: SloCounts;
  /** The edge's figures per service, second by second. */
  edge: Record<string, Cell[]>;
  /** The services' own counts (`$SRV.STATS`) per service, second by second, as this worker polled them. */
  polled: Record<string, Cell[]>;
  steps: Record<string, Step[]>;
  circuits: Record<string, CircuitStateName>;
};

export type ExchangeOptions = {
  nc: NatsConnection;
  logger: Logger;
  pool?: PoolMember;
  /** This worker's counts up to second `through`. */
  own(through: number): WorkerFigures;
  /** How long a gather waits for the last sibling (default 500 ms). */
  waitMs?: number;
};

/** The subject the workers of pool `id` answer on. */
export const figuresSubject = (id: string): string => `edge.${id}.figures`;

const TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * Gathers the counts of every worker of the edge.
 *
 * @example
 * const exchange = new FigureExchange({ nc, logger, pool, own: (t) => figuresUpTo(t) });
 * const all = await exchange.gather(Math.floor(Date.now() / 1000) - 1);
 */
export class FigureExchange {
  readonly #o: ExchangeOptions;
  readonly #sub: Subscription | null;
  #last: { through: number; figures: Promise<WorkerFigures[]> } | null = null;

  constructor(options: ExchangeOptions) {
    this.#o = options;
    const pool = options.pool;
    if (pool && !TOKEN.test(pool.id))
      throw new Error(`edge pool id "${pool.id}" is not a NATS subject token`);
    this.#sub =
      pool && pool.size > 1
        ? options.nc.subscribe(figuresSubject(pool.id), {
            callback: (err, msg) => {
              if (err) return;
              const through = Number((jsonOf(msg) as { through?: unknown } | undefined)?.through);
              if (!Number.isSafeInteger(through)) return;
              msg.respond(JSON.stringify(options.own(through)));
            },
          })
        : null;
  }

  /** True when the figures are summed over several workers (one gather per second). */
  get pooled(): boolean {
    return this.#sub !== null;
  }

  /** Every worker's counts up to `through`, in worker order; its own alone when the others cannot be asked. */
  gather(through: number): Promise<WorkerFigures[]> {
    // One process counts up to now: its second is still running, so nothing of it may be kept.
    if (!this.#sub) return Promise.resolve([this.#o.own(through)]);
    if (this.#last?.through === through) return this.#last.figures;
    const figures = this.#ask(through);
    this.#last = { through, figures };
    return figures;
  }

  async #ask(through: number): Promise<WorkerFigures[]> {
    const { nc, pool, logger } = this.#o;
    const byWorker = new Map<string, WorkerFigures>();
    try {
      const replies = await nc.requestMany(figuresSubject(pool!.id), JSON.stringify({ through }), {
        strategy: "count",
        maxMessages: pool!.size,
        maxWait: this.#o.waitMs ?? 500,
      });
      for await (const m of replies) {
        const f = jsonOf(m) as WorkerFigures | undefined;
        if (f && typeof f.worker === "string") byWorker.set(f.worker, f);
      }
    } catch (err) {
      logger.warn({ err: String(err) }, "dashboard: the other workers' figures are not available");
    }
    // Itself at least, whatever NATS said.
    if (!byWorker.has(pool!.worker)) byWorker.set(pool!.worker, this.#o.own(through));
    return [...byWorker.values()].sort((a, b) => a.worker.localeCompare(b.worker, "en", { numeric: true }));
  }

  close(): void {
    this.#sub?.unsubscribe();
  }
}

function jsonOf(msg: Msg): unknown {
  try {
    return msg.json();
  } catch {
    return undefined;
  }
}
