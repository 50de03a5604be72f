/**
 * Task definitions and the messages a task travels in (docs/protocol.md §10).
 * A task is asynchronous request-reply through the broker: a requester submits
 * it through its outbox, the owning service works it from its work-queue
 * stream `TASKS_<OWNER>`, and the result goes back through the owner's outbox
 * to the requester's stream `RESULTS_<REQUESTER>`, where a named callback of
 * the requester handles it. A task is defined once, in its owner's
 * `contract.ts`: a name, a version and zod schemas of its input and output.
 */
import type { z } from "zod";

export type TaskDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> = {
  /** The owning service: the one that works the task. */
  service: string;
  /** Dotted or dashed lower-case words naming the work: `report.monthly`. */
  name: string;
  version: number;
  input: I;
  output: O;
};

/**
 * Declares a task in its owner's contract.
 *
 * @example
 * export const monthlyReport = defineTask("stats", "report.monthly", 1, MonthlyReportInput, MonthlyReport);
 */
export function defineTask<const I extends z.ZodType, const O extends z.ZodType>(
  service: string,
  name: string,
  version: number,
  input: I,
  output: O,
): TaskDefinition<I, O> {
  if (!/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/.test(name)) {
    throw new Error(`Task name "${name}" must be dotted lower-case words, e.g. "report.monthly"`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(service))
    throw new Error(`Invalid service name "${service}" for task ${name}`);
  if (!Number.isInteger(version) || version < 1) throw new Error(`Task version must be a positive integer`);
  return { service, name, version, input, output };
}

/** How a task ended, as its result says. */
export type TaskOutcome = "done" | "failed" | "deadline";

/** The JSON body of a task message (`tasks.<owner>.<name>`). */
export type TaskMessage<I = unknown> = {
  /** The task's id, chosen by the requester (also its `Nats-Msg-Id` with the attempt). */
  id: string;
  task: string;
  version: number;
  /** 1 for the first submission; `runnerly tasks retry` submits attempt 2, 3, … */
  attempt: number;
  /** The requesting service: its result goes to `results.<requester>.<owner>.<name>`. */
  requester: string;
  submittedAt: string;
  /** Absolute Unix ms after which nobody wants the result, or null. */
  deadline: number | null;
  input: I;
};

/** The JSON body of a result message (`results.<requester>.<owner>.<name>`). */
export type TaskResult<O = unknown> = {
  id: string;
  task: string;
  version: number;
  attempt: number;
  status: TaskOutcome;
  /** Present when `status` is `done`. */
  output?: O;
  /** Present when `status` is `failed` or `deadline`: what went wrong, for people. */
  error?: string;
  /** How many times the owner received the task. */
  deliveries: number;
  finishedAt: string;
};

const upper = (service: string) => service.toUpperCase().replace(/-/g, "_");
/** `TASKS_<OWNER>`: the work-queue stream of the tasks a service works. */
export const taskStreamName = (service: string): string => `TASKS_${upper(service)}`;
/** `RESULTS_<REQUESTER>`: the work-queue stream of the results of tasks a service submitted. */
export const resultStreamName = (service: string): string => `RESULTS_${upper(service)}`;
/** `tasks.<owner>.<name>`: the subject a task is submitted on. */
export const taskSubject = (task: Pick<TaskDefinition, "service" | "name">): string =>
  `tasks.${task.service}.${task.name}`;
/** `results.<requester>.<owner>.<name>`: the subject a task's result is sent on. */
export const resultSubject = (requester: string, task: Pick<TaskDefinition, "service" | "name">): string =>
  `results.${requester}.${task.service}.${task.name}`;
/** The durable a service's instances share to work its tasks. */
export const taskDurableName = (service: string): string => `${service}-tasks`;
/** The durable a service's instances share to take the results of tasks it submitted. */
export const resultDurableName = (service: string): string => `${service}-task-results`;

/** Headers carried on task and result messages besides `Nats-Msg-Id` and `traceparent`. */
export const TaskHeader = {
  Id: "Mesh-Task-Id",
  Task: "Mesh-Task",
  Version: "Mesh-Task-Version",
  Attempt: "Mesh-Task-Attempt",
  Requester: "Mesh-Task-Requester",
  Status: "Mesh-Task-Status",
} as const;

/** `Nats-Msg-Id` of a task message: the stream drops a re-publish of the same attempt. */
export const taskMsgId = (id: string, attempt: number): string => `task:${id}:${attempt}`;
/** `Nats-Msg-Id` of a result message. */
export const resultMsgId = (id: string, attempt: number): string => `result:${id}:${attempt}`;
