/**
 * Monthly reports, the request-reply callback flow: a caller asks (202 with a
 * report id), a background worker computes the report and, in the same
 * transaction that stores it, emits `report.ready` through the outbox; the
 * caller either listens for that event or polls the report. Pending reports
 * survive a restart: the worker picks them up again.
 */
import type { Db, Logger, Outbox, Store } from "@runnerly/kit";
import { and, eq } from "drizzle-orm";
import { reportReady } from "./contract.ts";
import * as schema from "./db/schema.ts";
import { monthFigures } from "./queries.ts";

type Schema = typeof schema;
const { reports } = schema;

export class ReportWorker {
  private timer: ReturnType<typeof setInterval> | null = null;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store<Schema>,
    private readonly outbox: Outbox,
    private readonly logger: Logger,
  ) {}

  start(pollMs = 1000): void {
    this.timer = setInterval(() => this.kick(), pollMs);
    this.kick();
  }

  /** Works through pending reports now (called after a request is stored). */
  kick(): void {
    this.busy = this.busy
      .then(() => this.drain())
      .catch((err) => this.logger.warn({ err: String(err) }, "report worker failed"));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.busy;
  }

  private async drain(): Promise<void> {
    const pending = await this.store.db.select().from(reports).where(eq(reports.status, "pending")).limit(50);
    for (const p of pending) {
      await this.store.write(async (tx: Db<Schema>) => {
        const figures = await monthFigures(tx, p.user, p.month);
        const body = { reportId: p.id, ...figures };
        // Only the instance that flips it from pending emits the event.
        const flipped = await tx
          .update(reports)
          .set({ status: "ready", body: JSON.stringify(body), readyAt: Date.now() })
          .where(and(eq(reports.id, p.id), eq(reports.status, "pending")))
          .returning()
          .get();
        if (flipped) await this.outbox.emit(tx, reportReady, body, { aggregate: p.id });
      });
    }
  }
}
