/**
 * Messages between the one-process launcher (scripts/single.ts) and its
 * workers. The launcher sends `start` once, then `stop`; a worker answers
 * `ready` (or `failed`), forwards its log lines, says why it is about to die
 * (`crashed`), and `stopped` once it has shut down gracefully.
 */

/** Launcher → worker. `job` is what the entry needs (a service worker: its folder). */
export type ToWorker = { type: "start"; job: unknown } | { type: "stop" };

/** Worker → launcher. */
export type FromWorker =
  | { type: "log"; line: string }
  | { type: "ready"; url: string }
  | { type: "failed"; error: string }
  | { type: "crashed"; error: string }
  | { type: "stopped" };

/** What a service worker is started with. */
export type ServiceJob = { name: string; dir: string };

/**
 * A short reason from an error or a Worker `error` event's message (which on
 * Bun is a source frame followed by `error: <message>` and the stack).
 *
 * @example
 * crashReason("8 | setTimeout(…)\n    ^\nerror: boom\n    at …"); // "boom"
 */
export function crashReason(text: string): string {
  const lines = text.split("\n").map((l) => l.trim());
  const named = lines.find((l) => /^(error|[A-Za-z]*Error)\b.*?:/.test(l));
  const line = named ?? lines.find((l) => l !== "") ?? "unknown error";
  const short = line.replace(/^error:\s*/, "");
  return short.length > 120 ? `${short.slice(0, 119)}…` : short;
}
