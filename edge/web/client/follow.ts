/**
 * Following a task's status resource until it ends: as server-sent events
 * through the edge (`event: status`, data = the resource's JSON), and, when a
 * stream ends while the task is still pending (the edge or the service closes
 * long streams), by asking again with growing pauses.
 */
import { api, apiStream } from "./api.ts";

export type FollowOptions<T> = {
  /** True once the status is final. */
  ended: (status: T) => boolean;
  /** Called with each status seen, the last one included. */
  onStatus?: (status: T) => void;
  signal?: AbortSignal;
};

/** Pauses between asking again after a stream ended early; the last repeats. */
const AGAIN_MS = [250, 1000, 2000, 5000];

/**
 * Resolves with the first final status of the resource at `path`.
 *
 * @example
 * const report = await follow<PlanReport>(`/api/plans/plans/${id}/report`, { ended: (r) => r.status !== "pending" });
 */
export async function follow<T>(path: string, o: FollowOptions<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const body = await apiStream(path, o.signal);
    let last: T | null = null;
    for await (const data of sseData(body, "status")) {
      last = JSON.parse(data) as T;
      o.onStatus?.(last);
      if (o.ended(last)) return last;
    }
    // The stream ended early: one plain read, then a new stream after a pause.
    last = await api<T>(path, o.signal ? { signal: o.signal } : {});
    o.onStatus?.(last);
    if (o.ended(last)) return last;
    await pause(AGAIN_MS[Math.min(attempt, AGAIN_MS.length - 1)] as number, o.signal);
  }
}

/**
 * The `data` of each server-sent event named `event` in a byte stream, as
 * the events complete (text/event-stream: fields per line, events separated
 * by a blank line, `data` lines joined with newlines, comments ignored).
 *
 * @example
 * for await (const data of sseData(res.body, "status")) console.log(JSON.parse(data));
 */
export async function* sseData(body: ReadableStream<Uint8Array>, event: string): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? "\n\n" : decoder.decode(value, { stream: true });
      // A CR at the end may be the first half of a CRLF split across chunks: keep it raw.
      const held = !done && buffer.endsWith("\r") ? "\r" : "";
      const blocks = buffer
        .slice(0, buffer.length - held.length)
        .replace(/\r\n?/g, "\n")
        .split("\n\n");
      buffer = (blocks.pop() ?? "") + held;
      for (const block of blocks) {
        const parsed = parseEvent(block);
        if (parsed && parsed.event === event) yield parsed.data;
      }
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}

/** One event block's name (default `message`) and data, or null for a comment-only block. */
export function parseEvent(block: string): { event: string; data: string } | null {
  let name = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  return data.length > 0 ? { event: name, data: data.join("\n") } : null;
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}
