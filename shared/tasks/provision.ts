/**
 * The JetStream side of tasks: each owner's work-queue stream `TASKS_<OWNER>`
 * with the one durable its instances share, and each requester's work-queue
 * stream `RESULTS_<REQUESTER>` with its durable. Work-queue retention: a task
 * or result leaves the stream once it is acknowledged, so the stream's depth
 * is the queue's depth. Provisioned like the event streams (by the service,
 * or by the provisioner on a secured NATS).
 */
import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { DUPLICATE_WINDOW_MS, ensureConsumer, ensureStream } from "../events/provision.ts";
import type { Logger } from "../log/logger.ts";
import { resultDurableName, resultStreamName, taskDurableName, taskStreamName } from "./define.ts";

/**
 * Redeliveries the server allows before it gives a message up: far above any
 * handler's `maxDeliver` (the kit dead-letters and answers with a failure
 * first), a bound only for a task that kills its process every time.
 */
export const SERVER_MAX_DELIVER = 50;

type QueueOptions = { service: string; replicas: number; ackWaitMs: number };
type Queue = {
  stream: Partial<StreamConfig> & { name: string };
  durable: Partial<ConsumerConfig> & { durable_name: string };
};

function workQueue(name: string, subjects: string, durable: string, o: QueueOptions): Queue {
  return {
    stream: {
      name,
      subjects: [subjects],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: o.replicas,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      discard: DiscardPolicy.New,
      deny_delete: true,
      deny_purge: true,
      max_bytes: -1,
    },
    durable: {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_deliver: SERVER_MAX_DELIVER,
      ack_wait: nanos(o.ackWaitMs),
      max_ack_pending: 1024,
      filter_subject: subjects,
    },
  };
}

/**
 * The queue of the tasks `service` works.
 *
 * @example
 * taskQueue({ service: "stats", replicas: 1, ackWaitMs: 30_000 }).stream.name; // "TASKS_STATS"
 */
export function taskQueue(o: QueueOptions): Queue {
  return workQueue(taskStreamName(o.service), `tasks.${o.service}.>`, taskDurableName(o.service), o);
}

/**
 * The queue of the results of the tasks `service` submitted.
 *
 * @example
 * resultQueue({ service: "plans", replicas: 1, ackWaitMs: 30_000 }).durable.durable_name; // "plans-task-results"
 */
export function resultQueue(o: QueueOptions): Queue {
  return workQueue(resultStreamName(o.service), `results.${o.service}.>`, resultDurableName(o.service), o);
}

/**
 * Makes sure a queue's stream and durable exist (waiting for them like the
 * event consumers do) and returns the durable to pull from.
 *
 * @example
 * const consumer = await openQueue(taskQueue({ service: "stats", replicas: 1, ackWaitMs: 30_000 }), { js, jsm, logger });
 */
export async function openQueue(
  queue: Queue,
  o: { js: JetStreamClient; jsm: JetStreamManager; logger: Logger },
): Promise<Consumer> {
  await ensureStream(o.jsm, queue.stream, o.logger);
  await ensureConsumer(o.jsm, queue.stream.name, queue.durable, o.logger);
  return o.js.consumers.get(queue.stream.name, queue.durable.durable_name);
}
