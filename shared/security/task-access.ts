/**
 * What tasks need on NATS (docs/protocol.md §10), as least-privilege grants.
 * A requester publishes each task it declared on `tasks.<owner>.<name>` (its
 * outbox relay does, and reads the PubAck on its inbox) and pulls the results
 * from its own queue `RESULTS_<REQUESTER>`; a worker pulls its own queue
 * `TASKS_<OWNER>` and publishes each result on
 * `results.<requester>.<owner>.<name>`, only for the requesters that declare
 * that task: a worker cannot tell its requesters from its own definition, so
 * the grants are read from every service's `submits`.
 */
import {
  resultDurableName,
  resultStreamName,
  resultSubject,
  taskDurableName,
  taskStreamName,
  taskSubject,
} from "../tasks/define.ts";
import type { StreamReader } from "./jetstream-access.ts";
import type { ServiceAccess } from "./types.ts";

/**
 * The work-queue streams of a service's own task and result queues, each
 * with the one durable its instances share.
 *
 * @example
 * taskQueuesOf({ name: "stats", works: ["report.monthly"], … }); // [{ stream: "TASKS_STATS", durable: "stats-tasks" }]
 */
export function taskQueuesOf(s: ServiceAccess): StreamReader[] {
  return [
    ...(s.works?.length ? [{ stream: taskStreamName(s.name), durable: taskDurableName(s.name) }] : []),
    ...(s.submits?.length ? [{ stream: resultStreamName(s.name), durable: resultDurableName(s.name) }] : []),
  ];
}

/**
 * The subjects a service publishes tasks and results on: each task it
 * submits, and, when it works tasks, each result to a requester of its
 * (one subject per requester and task name, from `services`, which holds
 * every service of the mesh). A result for a task it does not work goes to
 * a requester that declared it too: the worker answers such a task `failed`.
 *
 * @example
 * taskSubjectsOf(stats, [stats, plans]);
 * // → ["results.plans.stats.report.season"] when plans submits stats/report.season
 */
export function taskSubjectsOf(s: ServiceAccess, services: ServiceAccess[]): string[] {
  const submitted = (s.submits ?? []).map((t) => taskSubject(t));
  if (!s.works?.length) return submitted;
  const results = services.flatMap((requester) =>
    (requester.submits ?? [])
      .filter((t) => t.service === s.name)
      .map((t) => resultSubject(requester.name, t)),
  );
  return [...submitted, ...results];
}
