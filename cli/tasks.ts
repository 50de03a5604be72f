/**
 * `runnerly tasks ls | retry`: a service's tasks through its admin RPC — the
 * queue it works (waiting, in progress, the oldest's age per task), what it
 * worked (done, failed, dead: failed on its last delivery) and what it
 * submitted — printed as tables, and a failed submitted task sent again.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { adminRpc, createRpcClient } from "@runnerly/kit";

const adminClient = (nc: NatsConnection, service: string, timeoutMs?: number) =>
  createRpcClient(nc, adminRpc(service), timeoutMs ? { timeoutMs } : {});
/** What the admin RPC `tasks` answers. */
export type TaskList = Awaited<ReturnType<ReturnType<typeof adminClient>["tasks"]>>;

/** The statuses `--status` takes, read from the admin contract itself. */
export const TASK_STATUSES: readonly string[] =
  adminRpc("x").methods.tasks.input.shape.status.unwrap().options;

/**
 * Lists a service's tasks; `status` narrows the rows (not the counts).
 *
 * @example
 * const list = await listTasks(nc, "stats", { status: "dead" });
 */
export function listTasks(
  nc: NatsConnection,
  service: string,
  options: { status?: string; limit?: number } = {},
): Promise<TaskList> {
  if (options.status !== undefined && !TASK_STATUSES.includes(options.status))
    throw new Error(`--status must be one of ${TASK_STATUSES.join(", ")} (got "${options.status}")`);
  return adminClient(nc, service).tasks({
    ...(options.status ? { status: options.status as never } : {}),
    limit: options.limit ?? 50,
  });
}

/** `1.2 s`, `3 min`, `—` for none. */
export function age(ms: number | null): string {
  if (ms === null) return "—";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}

/** Columns padded to their widest cell, two spaces apart. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

const when = (ms: number | null) => (ms === null ? "—" : new Date(ms).toISOString().replace(/\.\d+Z$/, "Z"));
const short = (text: string | null, n = 60) =>
  text === null ? "" : text.length > n ? `${text.slice(0, n - 1)}…` : text;

/**
 * The tables `runnerly tasks ls` prints: a summary line (pending, in
 * progress, failed, dead), the queue per task, then the rows worked and sent.
 *
 * @example
 * console.log(renderTasks("stats", await listTasks(nc, "stats")));
 */
export function renderTasks(service: string, list: TaskList, status?: string): string {
  const { queue, worked, sent } = list;
  const works = queue !== null;
  const submits = Object.values(sent.counts).some((n) => n > 0);
  if (!works && !submits && worked.rows.length === 0)
    return `${service} works no tasks and has submitted none`;
  const pending = (queue?.pending ?? 0) + sent.counts.pending;
  const out = [
    `${service}: ${pending} pending, ${queue?.inProgress ?? 0} in progress, ` +
      `${worked.counts.failed + sent.counts.failed} failed, ${worked.counts.dead} dead`,
  ];
  if (queue) {
    out.push(
      "",
      `queue ${queue.stream}: ${queue.pending} waiting, ${queue.inProgress} in progress, oldest ${age(queue.oldestAgeMs)}`,
      ...table(
        ["TASK", "IN QUEUE", "OLDEST"],
        queue.tasks.map((t) => [t.task, String(t.depth), age(t.oldestAgeMs)]),
      ).map((l) => `  ${l}`),
    );
  }
  if (works || worked.rows.length > 0) {
    const c = worked.counts;
    out.push("", `worked: ${c.done} done, ${c.failed} failed, ${c.dead} dead, ${c.deadline} deadline`);
    if (worked.rows.length > 0) {
      const rows = worked.rows.map((r) => [
        r.id,
        String(r.attempt),
        r.task,
        r.requester,
        r.status,
        `${r.deliveries}×`,
        when(r.finishedAt),
        short(r.error),
      ]);
      out.push(
        ...table(["ID", "ATTEMPT", "TASK", "FROM", "STATUS", "DELIVERED", "FINISHED", "ERROR"], rows).map(
          (l) => `  ${l}`,
        ),
      );
    } else out.push(`  none${status ? ` ${status}` : ""}`);
  }
  if (submits) {
    const c = sent.counts;
    out.push(
      "",
      `submitted: ${c.pending} pending, ${c.done} done, ${c.failed} failed, ${c.deadline} deadline`,
    );
    if (sent.rows.length > 0) {
      const rows = sent.rows.map((r) => [
        r.id,
        String(r.attempt),
        r.task,
        r.status,
        when(r.submittedAt),
        short(r.error),
      ]);
      out.push(
        ...table(["ID", "ATTEMPT", "TASK", "STATUS", "SUBMITTED", "ERROR"], rows).map((l) => `  ${l}`),
      );
    } else out.push(`  none${status ? ` ${status}` : ""}`);
  }
  const retryable = sent.rows.find((r) => r.status === "failed" || r.status === "deadline");
  if (retryable) out.push("", `retry a failed one with: runnerly tasks retry ${service} ${retryable.id}`);
  return out.join("\n");
}

/**
 * Submits a failed (or expired) task again as its next attempt.
 *
 * @example
 * const status = await retryTask(nc, "plans", "0193…");
 */
export function retryTask(nc: NatsConnection, service: string, id: string) {
  return adminClient(nc, service, 30_000).retryTask({ id });
}
