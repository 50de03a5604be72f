/**
 * A task status resource over HTTP: the JSON status of a submitted task, or,
 * when the client asks for `text/event-stream`, server-sent events — one
 * `status` event now and one each time it changes — until the task is no
 * longer pending. Routes that submit a task answer 202 with a `Location` of
 * such a resource.
 */
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { currentDeadline } from "../deadline/index.ts";
import { MeshError } from "../errors/index.ts";
import type { TaskClient, TaskStatus } from "./client.ts";

/** How often a stream re-reads the status besides being told (a callback that ran on another instance). */
const RECHECK_MS = 1000;
/** SSE comment sent while nothing changes, so proxies and the edge see the stream alive. */
const HEARTBEAT_MS = 15_000;
/** The longest one stream stays open without its own deadline; the client reconnects if it wants more. */
const MAX_STREAM_MS = 5 * 60_000;

/** True when the request asks for server-sent events (`Accept: text/event-stream`). */
export function acceptsEventStream(c: Context): boolean {
  return (c.req.header("accept") ?? "").includes("text/event-stream");
}

/**
 * Answers with the status of task `id` as `toBody` shapes it (404 when this
 * service submitted no such task): JSON, or a stream of server-sent events
 * when the request accepts `text/event-stream`.
 *
 * @example
 * app.get("/reports/:id", (c) => taskStatusResponse(c, tasks, c.req.param("id"), (s) => ({ state: s.status })));
 */
export async function taskStatusResponse<B>(
  c: Context,
  tasks: TaskClient,
  id: string,
  toBody: (status: TaskStatus) => B | Promise<B> = (s) => s as B,
): Promise<Response> {
  const first = await tasks.status(id);
  if (!first) throw new MeshError(404, { detail: `no task ${id}` });
  if (!acceptsEventStream(c)) return c.json(await toBody(first));
  const until = Math.min(currentDeadline() ?? Number.POSITIVE_INFINITY, Date.now() + MAX_STREAM_MS);
  return streamSSE(c, async (stream) => {
    let changed: (() => void) | null = null;
    const unwatch = tasks.watch((done) => {
      if (done === id) changed?.();
    });
    stream.onAbort(() => changed?.());
    try {
      let status = first;
      let sent = "";
      let quietSince = Date.now();
      while (!stream.aborted) {
        const body = JSON.stringify(await toBody(status));
        if (body !== sent) {
          await stream.writeSSE({ event: "status", data: body, id: String(status.attempt) });
          sent = body;
          quietSince = Date.now();
        } else if (Date.now() - quietSince >= HEARTBEAT_MS) {
          await stream.write(": still pending\n\n");
          quietSince = Date.now();
        }
        if (status.status !== "pending" || Date.now() >= until) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(RECHECK_MS, Math.max(0, until - Date.now())));
          changed = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        changed = null;
        status = (await tasks.status(id)) ?? status;
      }
    } finally {
      unwatch();
    }
  });
}
