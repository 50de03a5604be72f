/**
 * A hook on the RPC calls made through `createRpcClient`: measurements (the
 * metrics module) watch calls without the RPC client depending on them. The
 * hook is process-wide; each record names the NATS connection that made the
 * call, so a watcher can keep to its own service's calls.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { MeshError } from "../errors/index.ts";

/** How a call ended: answered, the callee's error, no answer in time, nobody listening, bad input or output. */
export type RpcOutcome = "ok" | "error" | "timeout" | "no_responders" | "invalid";

export type RpcCallRecord = {
  nc: NatsConnection;
  /** `<service>.<method>`, e.g. `stats.weeklyTotals`. */
  target: string;
  outcome: RpcOutcome;
  seconds: number;
};

export type RpcObserver = (call: RpcCallRecord) => void;

const observers = new Set<RpcObserver>();
const fromCallees = new WeakSet<object>();

/**
 * Calls `observer` after every RPC call in this process; returns the function that stops it.
 *
 * @example
 * const stop = observeRpcCalls(({ target, outcome }) => console.log(target, outcome));
 */
export function observeRpcCalls(observer: RpcObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/** Marks an error as the callee's own answer, so a callee's 503 or 504 is an `error`, not a transport failure. */
export function fromCallee<E extends object>(err: E): E {
  fromCallees.add(err);
  return err;
}

/** Wraps one client method so each call is reported to the observers. */
export function observed<A extends unknown[], R>(
  nc: NatsConnection,
  target: string,
  call: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async function observedRpcCall(...args: A): Promise<R> {
    if (observers.size === 0) return call(...args);
    const started = performance.now();
    let outcome: RpcOutcome = "ok";
    try {
      return await call(...args);
    } catch (err) {
      outcome = outcomeOf(err);
      throw err;
    } finally {
      const record = { nc, target, outcome, seconds: (performance.now() - started) / 1000 };
      for (const observer of observers) {
        try {
          observer(record);
        } catch {
          // a watcher's failure is never the caller's
        }
      }
    }
  };
}

/**
 * The client's own failures, by the status it gives them: 400 input outside
 * the contract, 502 without a NATS cause an answer outside the contract,
 * 503 no responders, 504 no answer in time (or no time left to ask).
 */
function outcomeOf(err: unknown): RpcOutcome {
  if (!(err instanceof MeshError) || fromCallees.has(err)) return "error";
  switch (err.status) {
    case 400:
      return "invalid";
    case 502:
      return err.cause === undefined ? "invalid" : "error";
    case 503:
      return "no_responders";
    case 504:
      return "timeout";
    default:
      return "error";
  }
}
