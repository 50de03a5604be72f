/**
 * The owner's side of tasks: its instances pull from the shared durable of
 * `TASKS_<OWNER>` (competing consumers; `concurrency × prefetch` pulled at
 * once), work up to `concurrency` tasks at a time, and for each commit in ONE
 * transaction the handler's writes, the inbox row in `_mesh_tasks_worked` and
 * the result message in the outbox; only then is the task acknowledged. A
 * redelivered task finds its inbox row and is acknowledged without being
 * worked again. A failing handler is retried with backoff; on its last
 * delivery the failure becomes the result. A task whose deadline passed
 * (before or while it is worked) is answered `deadline` and its writes are
 * not kept.
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { and, eq, sql } from "drizzle-orm";
import type { z } from "zod";
import { type Db, preparedPer, type Store } from "../db/index.ts";
import { withDeadline } from "../deadline/index.ts";
import { MeshError } from "../errors/index.ts";
import { deliverySpan } from "../events/consumer.ts";
import { faultPoint } from "../events/faults.ts";
import { writeOutboxRow } from "../events/outbox.ts";
import { PullLoop } from "../events/pull.ts";
import { type Logger, lazyChild } from "../log/logger.ts";
import { Attr, failSpan, inSpan, type Span, traceFields, traceparentOf } from "../trace/index.ts";
import {
  resultMsgId,
  resultSubject,
  type TaskDefinition,
  TaskHeader,
  type TaskMessage,
  type TaskOutcome,
  type TaskResult,
  taskDurableName,
  taskStreamName,
} from "./define.ts";
import { openQueue, taskQueue } from "./provision.ts";
import { tasksWorked } from "./tables.ts";

type AnyDb = Db<Record<string, unknown>>;

/** What a task handler is given besides its transaction and input. */
export type TaskContext = {
  id: string;
  attempt: number;
  requester: string;
  /** How many times this attempt was delivered (1 the first time). */
  deliveries: number;
  deadline: number | null;
  /** This task's CONSUMER span as the parent of further hops. */
  traceparent: string | undefined;
  logger: Logger;
};

export type TaskHandler<S extends Record<string, unknown> = Record<string, unknown>> = {
  task: TaskDefinition;
  handle(tx: Db<S>, input: unknown, ctx: TaskContext): Promise<unknown>;
  /** Deliveries before the failure becomes the result (default 5). */
  maxDeliver: number;
  /** Delay before each retry (the last value repeats). */
  backoffMs: number[];
};

/**
 * Declares how a service works one of its tasks: `handle` runs inside the
 * transaction that also records the task as worked and its result as sent.
 *
 * @example
 * defineTaskHandler(monthlyReport, async (tx, { user, month }) => monthFigures(tx, user, month));
 */
export function defineTaskHandler<S extends Record<string, unknown>, T extends TaskDefinition>(
  task: T,
  handle: (tx: Db<S>, input: z.output<T["input"]>, ctx: TaskContext) => Promise<z.input<T["output"]>>,
  options: { maxDeliver?: number; backoffMs?: number[] } = {},
): TaskHandler<S> {
  const maxDeliver = options.maxDeliver ?? 5;
  if (!Number.isInteger(maxDeliver) || maxDeliver < 1 || maxDeliver >= 50) {
    throw new Error(`${task.service}/${task.name}: maxDeliver must be an integer from 1 to 49`);
  }
  return {
    task,
    handle: handle as TaskHandler<S>["handle"],
    maxDeliver,
    backoffMs: options.backoffMs ?? [250, 1000, 5000, 15_000],
  };
}

/** A service's task settings when it names none (`tasks.concurrency`, `tasks.prefetch`). */
export const TASK_WORKER_DEFAULTS = { concurrency: 4, prefetch: 4 } as const;

export type TaskWorkerOptions = {
  service: string;
  store: Store<Record<string, unknown>>;
  js: JetStreamClient;
  jsm: JetStreamManager;
  logger: Logger;
  handlers: TaskHandler[];
  /** Tasks one instance works at once. */
  concurrency: number;
  /** Tasks pulled ahead, as a multiple of `concurrency` (1: only for a free slot). */
  prefetch: number;
  ackWaitMs: number;
  replicas: number;
  /** Wakes the outbox relay once a result is committed. */
  onCommitted: () => void;
};

/** A result the handler cannot be retried into (bad message, unknown task, invalid output). */
class Refused extends Error {}

/**
 * Tasks one instance holds at most (pulled and not yet acknowledged): those
 * being worked (`concurrency`) and those whose handler returned and that
 * wait for their group's commit. Bigger commit groups, one fsync for many.
 */
const MAX_IN_HAND = 64;

export class TaskWorker {
  private readonly pull: PullLoop;
  private readonly inFlight = new Set<Promise<void>>();
  /** Tasks whose handler has not returned yet: at most `concurrency`. */
  private busy = 0;
  private wake: (() => void) | null = null;
  private readonly byName = new Map<string, TaskHandler>();
  /** Outcomes since start, for metrics and tests. */
  readonly counts = { done: 0, failed: 0, deadline: 0, skipped: 0, retry: 0 };

  constructor(private readonly o: TaskWorkerOptions) {
    for (const [name, value] of Object.entries({ concurrency: o.concurrency, prefetch: o.prefetch })) {
      if (!Number.isInteger(value) || value < 1)
        throw new Error(`${o.service}: tasks.${name} must be a whole number of at least 1 (got ${value})`);
    }
    for (const h of o.handlers) this.byName.set(`${h.task.name}@${h.task.version}`, h);
    const queue = taskQueue({ service: o.service, replicas: o.replicas, ackWaitMs: o.ackWaitMs });
    this.pull = new PullLoop({
      open: () => openQueue(queue, o),
      // The tasks the server may have on their way: those for free slots and those pulled ahead.
      maxMessages: o.concurrency * o.prefetch,
      take: (m) => this.take(m),
      logger: o.logger,
      fields: { stream: taskStreamName(o.service) },
      warning: "task worker not running yet; retrying",
    });
  }

  /** Tasks being worked by this instance now. */
  get working(): number {
    return this.inFlight.size;
  }

  start(): void {
    this.pull.start();
  }

  async stop(): Promise<void> {
    await this.pull.stop(() => Promise.allSettled([...this.inFlight]));
  }

  /** Starts working `m`; resolves once another task may be taken. */
  private async take(m: JsMsg): Promise<void> {
    this.busy++;
    let returned = false;
    const handlerReturned = () => {
      if (returned) return;
      returned = true;
      this.busy--;
      this.wake?.();
    };
    const work = this.handle(m, handlerReturned).finally(() => {
      handlerReturned();
      this.inFlight.delete(work);
      this.wake?.();
    });
    this.inFlight.add(work);
    while (this.busy >= this.o.concurrency || this.inFlight.size >= MAX_IN_HAND) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    this.wake = null;
  }

  /** Works one delivered task inside a CONSUMER span. Never throws. */
  private async handle(m: JsMsg, handlerReturned: () => void): Promise<void> {
    const { span, parent } = deliverySpan(`work ${m.subject}`, taskDurableName(this.o.service), m);
    try {
      const outcome = await inSpan(span, parent, () => this.process(m, span, handlerReturned));
      this.counts[outcome]++;
      span.setAttribute(Attr.EventOutcome, outcome);
    } finally {
      span.end();
    }
  }

  /** `handlerReturned` is called once the handler is done, before the commit: its slot is free. */
  private async process(
    m: JsMsg,
    span: Span,
    handlerReturned: () => void,
  ): Promise<keyof TaskWorker["counts"]> {
    const deliveries = m.info.deliveryCount;
    let message: TaskMessage;
    try {
      message = decodeTask(m.data);
    } catch (err) {
      // Nothing to answer to: no id or requester. Logged and dropped.
      this.o.logger.error({ err: String(err), subject: m.subject, seq: m.seq }, "task message dropped");
      m.term();
      return "failed";
    }
    // Bound only when something is logged: most tasks log nothing.
    const logger = lazyChild(this.o.logger, () => ({
      task: message.task,
      taskId: message.id,
      ...traceFields(span),
    }));
    const ctx: TaskContext = {
      id: message.id,
      attempt: message.attempt,
      requester: message.requester,
      deliveries,
      deadline: message.deadline,
      traceparent: traceparentOf(span),
      logger,
    };
    const keepAlive = setInterval(() => m.working(), Math.max(500, this.o.ackWaitMs / 3));
    try {
      const handler = this.byName.get(`${message.task}@${message.version}`);
      if (!handler) throw new Refused(`${this.o.service} does not work ${message.task} v${message.version}`);
      if (message.deadline !== null && Date.now() >= message.deadline) {
        return this.answer(
          m,
          message,
          ctx,
          "deadline",
          undefined,
          "its deadline passed before it was worked",
        );
      }
      const input = handler.task.input.safeParse(message.input);
      if (!input.success) throw new Refused(`invalid input: ${input.error.message}`);
      const outcome = await withDeadline(message.deadline ?? undefined, () =>
        this.o.store.write(async (tx) => {
          if (await this.seen(tx as AnyDb, message)) return "skipped" as const;
          let raw: unknown;
          try {
            raw = await handler.handle(tx as never, input.data, ctx);
          } finally {
            handlerReturned();
          }
          const output = handler.task.output.safeParse(raw);
          if (!output.success) throw new Refused(`the handler's output is invalid: ${output.error.message}`);
          await this.recordResult(tx as AnyDb, message, deliveries, "done", output.data, undefined);
          return "done" as const;
        }),
      );
      faultPoint("task.after-commit");
      m.ack();
      return outcome;
    } catch (err) {
      failSpan(span, err);
      const reason = err instanceof Error ? err.message : String(err);
      if (isDeadline(err)) return this.answer(m, message, ctx, "deadline", undefined, reason);
      const handler = this.byName.get(`${message.task}@${message.version}`);
      const maxDeliver = handler?.maxDeliver ?? 1;
      if (err instanceof Refused || deliveries >= maxDeliver) {
        logger.error({ err: reason, deliveries }, "task failed; its failure is the result");
        return this.answer(m, message, ctx, "failed", undefined, reason);
      }
      const backoff = handler?.backoffMs ?? [1000];
      const delay = backoff[Math.min(deliveries - 1, backoff.length - 1)] ?? 1000;
      logger.warn({ err: reason, deliveries, retryInMs: delay }, "task failed; will retry");
      m.nak(delay);
      return "retry";
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Records an outcome without the handler's writes (failed, deadline) and acknowledges the task. */
  private async answer(
    m: JsMsg,
    message: TaskMessage,
    ctx: TaskContext,
    status: Exclude<TaskOutcome, "done">,
    output: unknown,
    error: string,
  ): Promise<keyof TaskWorker["counts"]> {
    try {
      const outcome = await this.o.store.write(async (tx) => {
        if (await this.seen(tx as AnyDb, message)) return "skipped" as const;
        await this.recordResult(tx as AnyDb, message, ctx.deliveries, status, output, error);
        return status;
      });
      faultPoint("task.after-commit");
      // Acknowledged, not terminated: the outcome is recorded and the result is on its way.
      m.ack();
      return outcome;
    } catch (err) {
      // The store could not record it now: try again later.
      ctx.logger.warn({ err: String(err) }, "task outcome not recorded; will retry");
      m.nak(1000);
      return "retry";
    }
  }

  private async seen(db: AnyDb, message: TaskMessage): Promise<boolean> {
    const row = await workedRow(db).get({ id: message.id, attempt: message.attempt });
    return row !== undefined;
  }

  /** The inbox row and the result message, in the caller's transaction. */
  private async recordResult(
    db: AnyDb,
    message: TaskMessage,
    deliveries: number,
    status: TaskOutcome,
    output: unknown,
    error: string | undefined,
  ): Promise<void> {
    const now = Date.now();
    await insertWorked(db).run({
      id: message.id,
      attempt: message.attempt,
      task: message.task,
      requester: message.requester,
      status,
      deliveries,
      error: error ?? null,
      input: JSON.stringify(message.input),
      finishedAt: now,
    });
    const result: TaskResult = {
      id: message.id,
      task: message.task,
      version: message.version,
      attempt: message.attempt,
      status,
      ...(status === "done" ? { output } : { error }),
      deliveries,
      finishedAt: new Date(now).toISOString(),
    };
    const headers: Record<string, string> = {
      [TaskHeader.Id]: message.id,
      [TaskHeader.Task]: message.task,
      [TaskHeader.Version]: String(message.version),
      [TaskHeader.Attempt]: String(message.attempt),
      [TaskHeader.Status]: status,
    };
    // The result is a hop of the same trace: its callback becomes a child of this task's span.
    await writeOutboxRow(db, {
      msgId: resultMsgId(message.id, message.attempt),
      subject: resultSubject(message.requester, { service: this.o.service, name: message.task }),
      aggregate: message.id,
      body: result,
      headers,
    });
    this.o.store.afterCommit(this.o.onCommitted);
  }
}

const p = sql.placeholder;

/** The inbox row of a task's attempt, if it was worked. */
const workedRow = preparedPer((db: AnyDb) =>
  db
    .select({ id: tasksWorked.id })
    .from(tasksWorked)
    .where(and(eq(tasksWorked.id, p("id")), eq(tasksWorked.attempt, p("attempt"))))
    .prepare(),
);

const insertWorked = preparedPer((db: AnyDb) =>
  db
    .insert(tasksWorked)
    .values({
      id: p("id"),
      attempt: p("attempt"),
      task: p("task"),
      requester: p("requester"),
      status: p("status"),
      deliveries: p("deliveries"),
      error: p("error"),
      input: p("input"),
      finishedAt: p("finishedAt"),
    })
    .prepare(),
);

function isDeadline(err: unknown): boolean {
  return err instanceof MeshError && err.status === 504;
}

/** Parses a task message; throws when it is not one. */
export function decodeTask(data: Uint8Array): TaskMessage {
  const m = JSON.parse(new TextDecoder().decode(data)) as Partial<TaskMessage>;
  if (
    !m ||
    typeof m.id !== "string" ||
    typeof m.task !== "string" ||
    typeof m.version !== "number" ||
    typeof m.attempt !== "number" ||
    typeof m.requester !== "string" ||
    !/^[A-Za-z0-9_-]+$/.test(m.requester)
  ) {
    throw new Error("not a task message (id, task, version, attempt and requester are required)");
  }
  return { deadline: null, submittedAt: "", input: undefined, ...m } as TaskMessage;
}
