/**
 * The task side of a service's metrics: its work queue's depth, tasks in
 * progress and the age of the oldest per task (read at scrape time from the
 * same cached reading as `$SRV.STATS`), the tasks it submitted still waiting
 * for a result, and the callbacks this instance ran by task and outcome.
 */

import type { ServiceFigures, ServiceStatsData } from "./figures.ts";
import { Counter, Gauge, type Registry } from "./prom.ts";
import type { TaskResultCounts } from "./task-figures.ts";

export type TaskMetricsOptions = { works: boolean; submits: boolean; results: TaskResultCounts };

/**
 * Registers the task gauges and counter (only those that apply: a service that
 * works no task has no queue gauges).
 *
 * @example
 * registerTaskMetrics({ works: true, submits: false, results }, figures, [registry]);
 */
export function registerTaskMetrics(
  o: TaskMetricsOptions,
  figures: ServiceFigures,
  registers: Registry[],
): void {
  const read = async () => (await figures.read().catch(() => null))?.tasks ?? null;
  type Queue = NonNullable<NonNullable<ServiceStatsData["tasks"]>["queue"]>;
  const perTask = (name: string, help: string, pick: (t: Queue["tasks"][number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["task"] as const,
      registers,
      async collect() {
        const queue = (await read())?.queue;
        if (!queue) return;
        this.reset();
        for (const t of queue.tasks) this.set({ task: t.task }, pick(t));
      },
    });
  if (o.works) {
    perTask(
      "runnerly_task_queue_depth",
      "Tasks of each kind in the service's work queue TASKS_<NAME>: waiting or being worked (every instance).",
      (t) => t.depth,
    );
    perTask(
      "runnerly_task_oldest_age_seconds",
      "Age of the oldest task of each kind in the work queue (0 when none waits).",
      (t) => (t.oldestAgeMs ?? 0) / 1000,
    );
    new Gauge({
      name: "runnerly_task_queue_in_progress",
      help: "Tasks delivered from the work queue and not yet acknowledged: being worked or waiting for a retry (JetStream num_ack_pending).",
      registers,
      async collect() {
        const queue = (await read())?.queue;
        if (queue) this.set(queue.inProgress);
      },
    });
  }
  if (o.submits) {
    new Gauge({
      name: "runnerly_tasks_sent_pending",
      help: "Tasks this service submitted whose result has not come back yet.",
      registers,
      async collect() {
        const tasks = await read();
        if (tasks) this.set(tasks.sentPending);
      },
    });
    const results = o.results;
    new Counter({
      name: "runnerly_task_results_total",
      help: "Results of submitted tasks whose callback this instance ran (committed), by task and status (done, failed, deadline).",
      labelNames: ["task", "status"] as const,
      registers,
      collect() {
        this.reset();
        for (const r of results.list()) this.inc({ task: r.task, status: r.status }, r.count);
      },
    });
  }
}
