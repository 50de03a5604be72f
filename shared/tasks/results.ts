/**
 * The requester's side of results: its instances pull from the shared durable
 * of `RESULTS_<REQUESTER>` and handle up to 64 results at once (their
 * transactions share group commits), each in ONE transaction of the
 * requester's store, mark the submitted task finished (only while it is
 * pending at that attempt: the sent row is the inbox) and run the callback
 * the task was submitted with. A late result (the task already ended at its
 * deadline, or was retried since) is acknowledged and ignored. The deadline
 * watch gives the callback a `deadline` outcome when a task's deadline passes
 * with no result, on whichever instance notices first.
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { and, asc, eq, isNotNull, lte, sql } from "drizzle-orm";
import type { z } from "zod";
import { type Db, preparedPer, type Store } from "../db/index.ts";
import { deliverySpan } from "../events/consumer.ts";
import { faultPoint } from "../events/faults.ts";
import { PullLoop } from "../events/pull.ts";
import { deadLetters } from "../events/tables.ts";
import { type Logger, lazyChild } from "../log/logger.ts";
import { failSpan, inSpan, traceFields } from "../trace/index.ts";
import type { TaskClient } from "./client.ts";
import {
  resultDurableName,
  resultStreamName,
  type TaskDefinition,
  type TaskOutcome,
  type TaskResult,
} from "./define.ts";
import { openQueue, resultQueue } from "./provision.ts";
import { tasksSent } from "./tables.ts";

type AnyDb = Db<Record<string, unknown>>;
type SentRow = typeof tasksSent.$inferSelect;

/** What a callback is told about the task it submitted. */
export type TaskOutcomeOf<T extends TaskDefinition = TaskDefinition> = {
  id: string;
  key: string | null;
  /** `<owner>/<name>` */
  task: string;
  attempt: number;
  status: TaskOutcome;
  /** The task's output, when `status` is `done`. */
  output: z.output<T["output"]> | undefined;
  /** What went wrong, when it is not. */
  error: string | undefined;
  /** The input it was submitted with. */
  input: z.output<T["input"]>;
};

export type CallbackContext = { logger: Logger; deliveries: number };

export type TaskCallback<S extends Record<string, unknown> = Record<string, unknown>> = {
  task: TaskDefinition;
  handle(tx: Db<S>, outcome: TaskOutcomeOf, ctx: CallbackContext): Promise<void>;
};

/**
 * Declares a callback for results of `task`; name it in the requester's
 * `tasks.callbacks` and pass that name to `submit`.
 *
 * @example
 * callbacks: () => ({ reportReady: defineCallback(monthlyReport, async (tx, r) => { await tx.update(reports)… }) })
 */
export function defineCallback<S extends Record<string, unknown>, T extends TaskDefinition>(
  task: T,
  handle: (tx: Db<S>, outcome: TaskOutcomeOf<T>, ctx: CallbackContext) => Promise<void>,
): TaskCallback<S> {
  return { task, handle: handle as TaskCallback<S>["handle"] };
}

export type ResultRunnerOptions = {
  service: string;
  store: Store<Record<string, unknown>>;
  js: JetStreamClient;
  jsm: JetStreamManager;
  logger: Logger;
  callbacks: Record<string, TaskCallback>;
  client: TaskClient;
  ackWaitMs: number;
  replicas: number;
  /** Deliveries of a result whose callback keeps failing before it is dead-lettered (default 5). */
  maxDeliver?: number;
};

/**
 * Results handled at once: their callbacks' transactions queue up together
 * and share group commits (one fsync for many) instead of one commit each.
 */
const MAX_IN_FLIGHT = 64;

export class ResultRunner {
  private running = false;
  private readonly pull: PullLoop;
  private readonly inFlight = new Set<Promise<void>>();
  private wake: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private nextDeadline = Number.POSITIVE_INFINITY;
  private sweeping: Promise<void> = Promise.resolve();
  /** Outcomes since start: callbacks run, late or unknown results ignored, retries, dead letters. */
  readonly counts = { delivered: 0, ignored: 0, retry: 0, dead: 0, expired: 0 };

  constructor(private readonly o: ResultRunnerOptions) {
    const queue = resultQueue({ service: o.service, replicas: o.replicas, ackWaitMs: o.ackWaitMs });
    this.pull = new PullLoop({
      open: () => openQueue(queue, o),
      maxMessages: MAX_IN_FLIGHT,
      take: (m) => this.take(m),
      logger: o.logger,
      fields: { stream: resultStreamName(o.service) },
      warning: "task result runner not running yet; retrying",
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.pull.start();
    // Pending tasks submitted before a restart keep their deadlines.
    this.sweep();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.pull.stop(async () => {
      await Promise.allSettled([...this.inFlight]);
      await this.sweeping;
    });
  }

  /** Starts handling `m`; resolves once another result may be taken. */
  private async take(m: JsMsg): Promise<void> {
    const work = this.handle(m).finally(() => {
      this.inFlight.delete(work);
      this.wake?.();
    });
    this.inFlight.add(work);
    while (this.inFlight.size >= MAX_IN_FLIGHT) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    this.wake = null;
  }

  /** Arms the deadline watch for a task committed with `deadline` (absolute ms). */
  expect(deadline: number): void {
    if (!this.running || deadline >= this.nextDeadline) return;
    this.arm(deadline);
  }

  private arm(deadline: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.nextDeadline = deadline;
    this.timer = setTimeout(() => this.sweep(), Math.max(0, deadline - Date.now()));
  }

  /** Ends every pending task past its deadline with a `deadline` outcome, then arms for the next. */
  private sweep(): void {
    this.timer = null;
    this.nextDeadline = Number.POSITIVE_INFINITY;
    this.sweeping = this.sweeping
      .then(() => this.expire())
      .catch((err) => {
        this.o.logger.warn({ err: String(err) }, "task deadline watch failed; trying again in 1 s");
        if (this.running) this.arm(Date.now() + 1000);
      });
  }

  private async expire(): Promise<void> {
    const db = this.o.store.db as AnyDb;
    for (;;) {
      if (!this.running) return;
      const now = Date.now();
      const due = await dueTasks(db, now, 100);
      for (const row of due) {
        const result: TaskResult = {
          id: row.id,
          task: row.task,
          version: row.version,
          attempt: row.attempt,
          status: "deadline",
          error: "the task's deadline passed before its result arrived",
          deliveries: 0,
          finishedAt: new Date(now).toISOString(),
        };
        const applied = await this.apply(result, { logger: this.o.logger, deliveries: 1 });
        if (applied) this.counts.expired++;
      }
      if (due.length < 100) break;
    }
    const next = await nextDeadline(db).get();
    if (next?.deadline != null && this.running) this.arm(next.deadline);
  }

  /** Handles one delivered result inside a CONSUMER span. Never throws. */
  private async handle(m: JsMsg): Promise<void> {
    const { span, parent } = deliverySpan(`callback ${m.subject}`, resultDurableName(this.o.service), m);
    const deliveries = m.info.deliveryCount;
    // Bound only when something is logged: most results log nothing.
    const logger = lazyChild(this.o.logger, () => ({ subject: m.subject, seq: m.seq, ...traceFields(span) }));
    const keepAlive = setInterval(() => m.working(), Math.max(500, this.o.ackWaitMs / 3));
    try {
      let result: TaskResult;
      try {
        result = decodeResult(m.data);
      } catch (err) {
        logger.error({ err: String(err) }, "task result dropped: not a result");
        m.term();
        this.counts.dead++;
        return;
      }
      const applied = await inSpan(span, parent, () => this.apply(result, { logger, deliveries }));
      faultPoint("task-result.after-commit");
      m.ack();
      this.counts[applied ? "delivered" : "ignored"]++;
    } catch (err) {
      failSpan(span, err);
      const maxDeliver = this.o.maxDeliver ?? 5;
      if (deliveries >= maxDeliver) {
        await this.deadLetter(m, String(err instanceof Error ? err.message : err), deliveries).catch(
          () => {},
        );
        logger.error({ err: String(err), deliveries }, "task callback dead-lettered");
        m.term();
        this.counts.dead++;
      } else {
        const delay = [250, 1000, 5000, 15_000][Math.min(deliveries - 1, 3)] ?? 1000;
        logger.warn({ err: String(err), deliveries, retryInMs: delay }, "task callback failed; will retry");
        m.nak(delay);
        this.counts.retry++;
      }
    } finally {
      clearInterval(keepAlive);
      span.end();
    }
  }

  /**
   * Marks the task finished and runs its callback, in one transaction; false
   * when the task is not pending at this attempt (a late or repeated result).
   */
  private async apply(result: TaskResult, ctx: CallbackContext): Promise<boolean> {
    const applied = await this.o.store.write(async (tx) => {
      const db = tx as AnyDb;
      const row = await sentById(db).get({ id: result.id });
      if (!row || row.status !== "pending" || row.attempt !== result.attempt) return false;
      const callback = this.o.callbacks[row.callback];
      if (!callback) throw new Error(`${this.o.service} has no callback "${row.callback}" (task ${row.id})`);
      const outcome = toOutcome(row, result, callback.task);
      await finishSent(db).run({
        id: row.id,
        attempt: row.attempt,
        status: outcome.status,
        output: outcome.output === undefined ? null : JSON.stringify(outcome.output),
        error: outcome.error ?? null,
        finishedAt: Date.now(),
      });
      await callback.handle(tx as never, outcome, ctx);
      return true;
    });
    if (applied) this.o.client.finished(result.id);
    return applied;
  }

  private async deadLetter(m: JsMsg, error: string, deliveries: number): Promise<void> {
    const body = new TextDecoder().decode(m.data);
    let id = `seq-${m.seq}`;
    try {
      id = (JSON.parse(body) as { id?: string }).id ?? id;
    } catch {
      // keep the sequence-based id
    }
    await this.o.store.write((tx) =>
      (tx as AnyDb)
        .insert(deadLetters)
        .values({
          consumer: `${this.o.service}-task-results`,
          eventId: id,
          subject: m.subject,
          body,
          error,
          deliveries,
          failedAt: Date.now(),
        })
        .run(),
    );
  }
}

/**
 * The deadline watch's reads, both served by the `_mesh_tasks_sent_pending`
 * index (tables.ts): the pending tasks whose deadline passed, soonest first,
 * and the soonest deadline still ahead.
 *
 * @example
 * const due = await dueTasks(db, Date.now(), 100);
 */
export const dueTasks = (db: AnyDb, now: number, limit: number) =>
  db
    .select()
    .from(tasksSent)
    .where(and(eq(tasksSent.status, "pending"), isNotNull(tasksSent.deadline), lte(tasksSent.deadline, now)))
    .orderBy(asc(tasksSent.deadline))
    .limit(limit);

/** See `dueTasks`. */
export const nextDeadline = (db: AnyDb) =>
  db
    .select({ deadline: tasksSent.deadline })
    .from(tasksSent)
    .where(and(eq(tasksSent.status, "pending"), isNotNull(tasksSent.deadline)))
    .orderBy(asc(tasksSent.deadline))
    .limit(1);

const sentById = preparedPer((db: AnyDb) =>
  db
    .select()
    .from(tasksSent)
    .where(eq(tasksSent.id, sql.placeholder("id")))
    .prepare(),
);

/** Ends a task still pending at its attempt. */
const finishSent = preparedPer((db: AnyDb) =>
  db
    .update(tasksSent)
    // drizzle's types take placeholders in values and conditions; in `set`, wrapped in sql.
    .set({
      status: sql`${sql.placeholder("status")}`,
      output: sql`${sql.placeholder("output")}`,
      error: sql`${sql.placeholder("error")}`,
      finishedAt: sql`${sql.placeholder("finishedAt")}`,
    })
    .where(
      and(
        eq(tasksSent.id, sql.placeholder("id")),
        eq(tasksSent.attempt, sql.placeholder("attempt")),
        eq(tasksSent.status, "pending"),
      ),
    )
    .prepare(),
);

/** The outcome a callback sees; an output that does not match the requester's contract is a failure. */
function toOutcome(row: SentRow, result: TaskResult, task: TaskDefinition): TaskOutcomeOf {
  const base = {
    id: row.id,
    key: row.key,
    task: `${row.owner}/${row.task}`,
    attempt: row.attempt,
    input: JSON.parse(row.input),
  };
  if (result.status === "done") {
    const output = task.output.safeParse(result.output);
    if (output.success) return { ...base, status: "done", output: output.data, error: undefined };
    return {
      ...base,
      status: "failed",
      output: undefined,
      error: `the task's output is invalid: ${output.error.message}`,
    };
  }
  const status: TaskOutcome = result.status === "deadline" ? "deadline" : "failed";
  return { ...base, status, output: undefined, error: result.error ?? status };
}

/** Parses a result message; throws when it is not one. */
export function decodeResult(data: Uint8Array): TaskResult {
  const r = JSON.parse(new TextDecoder().decode(data)) as Partial<TaskResult>;
  if (
    !r ||
    typeof r.id !== "string" ||
    typeof r.attempt !== "number" ||
    !["done", "failed", "deadline"].includes(String(r.status))
  ) {
    throw new Error("not a task result (id, attempt and status are required)");
  }
  return r as TaskResult;
}
