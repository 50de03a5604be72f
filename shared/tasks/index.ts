/** Tasks: durable asynchronous request-reply through the broker, with callbacks (docs/protocol.md §10). */
export {
  createTaskClient,
  type SubmitOptions,
  type TaskClient,
  type TaskStatus,
  toStatus,
} from "./client.ts";
export {
  defineTask,
  resultDurableName,
  resultMsgId,
  resultStreamName,
  resultSubject,
  type TaskDefinition,
  TaskHeader,
  type TaskMessage,
  type TaskOutcome,
  type TaskResult,
  taskDurableName,
  taskMsgId,
  taskStreamName,
  taskSubject,
} from "./define.ts";
export { acceptsEventStream, taskStatusResponse } from "./http.ts";
export { resultQueue, SERVER_MAX_DELIVER, taskQueue } from "./provision.ts";
export {
  type CallbackContext,
  decodeResult,
  defineCallback,
  ResultRunner,
  type TaskCallback,
  type TaskOutcomeOf,
} from "./results.ts";
export { tasksSent, tasksWorked } from "./tables.ts";
export {
  decodeTask,
  defineTaskHandler,
  TASK_WORKER_DEFAULTS,
  type TaskContext,
  type TaskHandler,
  TaskWorker,
} from "./worker.ts";
