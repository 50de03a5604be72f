/**
 * The worker side of a work pool (pool.ts): a module loaded in a worker
 * thread calls `serveWork` once with the function that does the work. It
 * imports nothing else of the kit, so a thread starts in milliseconds.
 */

/** What a worker thread sends back for one job. */
export type WorkReply<O> =
  | { id: number; ok: true; value: O }
  | { id: number; ok: false; error: { name: string; message: string } };

type WorkerScope = {
  onmessage: ((event: MessageEvent<{ id: number; input: unknown }>) => void) | null;
  postMessage(message: unknown): void;
};

/**
 * Answers the pool's jobs with `fn`: its value, or its error's name and
 * message (the pool rethrows them as a `WorkFailed` of the same name).
 *
 * @example
 * // services/runs/gpx-worker.ts
 * serveWork((bytes: ArrayBuffer) => summarise(parseGpx(new TextDecoder().decode(bytes))));
 */
export function serveWork<I, O>(fn: (input: I) => O | Promise<O>): void {
  const scope = globalThis as unknown as WorkerScope;
  scope.onmessage = async (event) => {
    const { id, input } = event.data;
    let reply: WorkReply<O>;
    try {
      reply = { id, ok: true, value: await fn(input as I) };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      reply = { id, ok: false, error: { name: error.name, message: error.message } };
    }
    scope.postMessage(reply);
  };
}
