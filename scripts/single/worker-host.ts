/**
 * The worker side of the one-process launcher: runs one part (a service or
 * the edge) inside a Bun Worker. The part's environment is the Worker's own
 * `process.env` (the launcher passes it with the Worker's `env` option), so
 * its configuration, NATS user and data file are its own, as in a process of
 * its own. An uncaught error or unhandled rejection ends this worker only
 * (exit code 1), after saying why; the launcher restarts it.
 */

import type { Logger } from "@runnerly/kit";
import pino from "pino";
import type { FromWorker, ToWorker } from "./protocol.ts";

/** A started part: where it listens, and how to stop it gracefully. */
export type Hosted = { url: string; stop(): Promise<void> };

declare const self: Worker;

const post = (message: FromWorker) => self.postMessage(message);

/**
 * Runs `start` when the launcher says so and `stop` when it asks; this is all
 * a worker entry does.
 *
 * @example
 * hostInWorker(async (job) => {
 *   const running = await startService(service, { env: process.env });
 *   return { url: running.url, stop: running.stop };
 * });
 */
export function hostInWorker(start: (job: unknown) => Promise<Hosted>): void {
  for (const kind of ["uncaughtException", "unhandledRejection"] as const) {
    process.on(kind, (err: unknown) => {
      const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
      post({
        type: "crashed",
        error: `${kind === "unhandledRejection" ? "unhandled rejection" : "uncaught"} ${text}`,
      });
      process.exit(1);
    });
  }
  let starting: Promise<Hosted | null> | null = null;
  self.addEventListener("message", (event: MessageEvent<ToWorker>) => {
    const message = event.data;
    if (message.type === "start" && !starting) {
      starting = start(message.job).then(
        (hosted) => {
          post({ type: "ready", url: hosted.url });
          return hosted;
        },
        (err: unknown) => {
          post({ type: "failed", error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
          process.exit(1);
          return null;
        },
      );
    } else if (message.type === "stop") {
      void (async function stopGracefully() {
        const hosted = await starting;
        await hosted?.stop();
        post({ type: "stopped" });
        process.exit(0);
      })();
    }
  });
}

/**
 * Sends a pino logger's lines to the launcher, which prints them under the
 * worker's tag as the dev launcher does for a process. The kit's
 * `createLogger` writes to stdout, shared by every thread here; pino reads
 * its destination from `pino.symbols.streamSym` on each write, and children
 * inherit it, so replacing it on the root logger redirects them all.
 *
 * @example
 * const logger = forwardLogs(createLogger("runs"));
 */
export function forwardLogs(logger: Logger): Logger {
  const destination = {
    write(chunk: string) {
      for (const line of chunk.split("\n")) if (line) post({ type: "log", line });
    },
  };
  (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] = destination;
  return logger;
}
