/**
 * The deadline of the request being handled, carried through the async
 * context so that the work a request starts can see it without passing it
 * along: the kit's store refuses to commit a write after it (so a 504 never
 * hides a committed write) and the work pool abandons work that is past it.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { MeshError } from "../errors/index.ts";

const scope = new AsyncLocalStorage<number>();

/**
 * Runs `fn` with `deadline` (absolute Unix ms) as the current deadline; with
 * none, `fn` runs as it is (no async-context switch).
 *
 * @example
 * await withDeadline(Date.now() + 2000, () => store.write(...));
 */
export function withDeadline<T>(deadline: number | undefined, fn: () => T): T {
  return deadline === undefined ? fn() : scope.run(deadline, fn);
}

/** The current request's deadline (absolute Unix ms), or undefined outside a request that has one. */
export function currentDeadline(): number | undefined {
  return scope.getStore();
}

/**
 * Throws a 504 problem when the current deadline has passed: the caller has
 * stopped waiting, so the work must not take effect. `what` says what was
 * abandoned ("the write was rolled back").
 *
 * @example
 * checkDeadline("the write was rolled back; nothing was stored");
 */
export function checkDeadline(what: string, now = Date.now()): void {
  const deadline = scope.getStore();
  if (deadline !== undefined && now >= deadline) throw deadlinePassed(what);
}

/** The 504 problem of work abandoned at its deadline. */
export function deadlinePassed(what: string): MeshError {
  return new MeshError(504, {
    type: "https://runnerly.dev/problems/deadline-passed",
    detail: `The request's deadline passed before it was done: ${what}. Retrying is safe.`,
  });
}

/**
 * Runs `fn` outside any request's deadline: for work a request only sets off
 * (waking the outbox relay, a background loop), which must not inherit and
 * later trip over the deadline of the request that happened to start it.
 */
export function outsideDeadline<T>(fn: () => T): T {
  return scope.getStore() === undefined ? fn() : scope.exit(fn);
}
