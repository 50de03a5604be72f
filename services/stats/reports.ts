/**
 * Reports on the kit's tasks (docs/protocol.md §10). A monthly report is
 * asked for with POST /reports: the pending report row and the task
 * `stats/report.monthly` are written in one transaction, so the task leaves
 * if and only if the request is stored. Stats works the task itself (the
 * month's figures from its projection), and its callback `reportReady` marks
 * the report ready and emits `report.ready` through the outbox in the
 * callback's transaction. A report pending across a restart completes when
 * the broker hands its task or result to the next instance. Season reports
 * (`stats/report.season`) are worked here for other services (plans).
 */
import {
  type Db,
  defineCallback,
  defineTaskHandler,
  type Logger,
  type Outbox,
  type Store,
  type TaskClient,
} from "@runnerly/kit";
import { and, eq, isNull } from "drizzle-orm";
import { monthlyReport, reportReady, seasonReport } from "./contract.ts";
import * as schema from "./db/schema.ts";
import { monthFigures, seasonFigures } from "./queries.ts";

type Schema = typeof schema;
const { reports } = schema;

/** The callback a monthly report's task is submitted with. */
export const REPORT_READY = "reportReady";

/**
 * Stores a pending report for `user`'s `month` and submits its task, inside
 * the caller's write transaction. The report's id is the task's key.
 *
 * @example
 * const { reportId } = await store.write((tx) => requestMonthlyReport(tx, tasks, "ann", "2026-10"));
 */
export async function requestMonthlyReport(
  tx: Db<Schema>,
  tasks: TaskClient,
  user: string,
  month: string,
): Promise<{ reportId: string; taskId: string }> {
  const reportId = crypto.randomUUID();
  const { id: taskId } = await tasks.submit(
    tx,
    monthlyReport,
    { user, month },
    { callback: REPORT_READY, key: reportId },
  );
  await tx
    .insert(reports)
    .values({ id: reportId, user, month, status: "pending", taskId, requestedAt: Date.now() })
    .run();
  return { reportId, taskId };
}

/** How stats works the report tasks: figures read in the task's transaction. */
export const reportHandlers = () => [
  defineTaskHandler<Schema, typeof monthlyReport>(monthlyReport, (tx, { user, month }) =>
    monthFigures(tx, user, month),
  ),
  defineTaskHandler<Schema, typeof seasonReport>(seasonReport, (tx, { user, from, to }) =>
    seasonFigures(tx, user, from, to),
  ),
];

/**
 * `reportReady`: the monthly report's figures came back. The report turns
 * ready and `report.ready` is emitted in this one transaction; a failed task
 * leaves the report pending (`runnerly tasks retry stats <id>` asks again).
 *
 * @example
 * callbacks: ({ outbox }) => reportCallbacks(outbox)
 */
export function reportCallbacks(outbox: Outbox) {
  return {
    [REPORT_READY]: defineCallback<Schema, typeof monthlyReport>(monthlyReport, async (tx, outcome, ctx) => {
      const reportId = outcome.key;
      if (!reportId) return;
      if (outcome.status !== "done" || !outcome.output) {
        ctx.logger.warn(
          { reportId, task: outcome.id, status: outcome.status, error: outcome.error },
          "monthly report not computed; it stays pending until its task is retried",
        );
        return;
      }
      const body = { reportId, ...outcome.output };
      const flipped = await tx
        .update(reports)
        .set({ status: "ready", body: JSON.stringify(body), readyAt: Date.now() })
        .where(and(eq(reports.id, reportId), eq(reports.status, "pending")))
        .returning({ id: reports.id })
        .get();
      if (flipped) await outbox.emit(tx, reportReady, body, { aggregate: reportId });
    }),
  };
}

/**
 * Reports asked for before they ran on tasks are still pending without a
 * task: at start, each gets its task (keyed by the report's id, so instances
 * starting together submit it once).
 */
export class PendingReportsUpgrade {
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store<Schema>,
    private readonly tasks: TaskClient,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.running = this.submitUntasked().catch((err) =>
      this.logger.warn({ err: String(err) }, "could not submit the tasks of reports pending from before"),
    );
  }

  stop(): Promise<void> {
    return this.running;
  }

  private async submitUntasked(): Promise<void> {
    const untasked = and(eq(reports.status, "pending"), isNull(reports.taskId));
    await this.store.write(async (tx) => {
      for (const r of await tx.select().from(reports).where(untasked).all()) {
        const { id } = await this.tasks.submit(
          tx,
          monthlyReport,
          { user: r.user, month: r.month },
          { callback: REPORT_READY, key: r.id },
        );
        await tx.update(reports).set({ taskId: id }).where(eq(reports.id, r.id)).run();
      }
    });
  }
}
