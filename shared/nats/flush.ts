/**
 * Writes a connection's outgoing messages once per event-loop turn instead of
 * once per message.
 *
 * @nats-io/nats-core (3.x) queues its socket write with `queueMicrotask` when
 * the outbound buffer was empty, so every request an HTTP handler makes and
 * every reply a handler finishes becomes a `write()` of its own: measured as
 * the largest single cost of the edge worker, of a service and of nats-server
 * on the request path (BENCHMARKS.md). Deferring the write to `setImmediate`
 * gathers every message of one loop turn — all requests Bun.serve handed over
 * in one poll, all replies finished in it — into one write. A message waits
 * at most for the rest of the turn it was made in; a buffer past the client's
 * own threshold (`pendingLimit`) is still written at once.
 *
 * The client has no option for this (upstream moved from a timer to a
 * microtask on purpose), so this replaces one method of its internal protocol
 * handler. `flushOncePerTurn` checks the shape it relies on and leaves the
 * connection untouched, saying so, when that shape changed;
 * shared/nats/flush.test.ts fails then, before anyone ships a slower mesh.
 */
import type { NatsConnection } from "@nats-io/nats-core";

type Outbound = { fill(buf: Uint8Array, ...more: Uint8Array[]): void; size(): number; length(): number };
type Protocol = {
  sendCommand(cmd: string | Uint8Array, ...payloads: Uint8Array[]): void;
  flushPending(): void;
  outbound: Outbound;
  pendingLimit: number;
};

const encoder = new TextEncoder();
const PATCHED = Symbol.for("runnerly.flushOncePerTurn");

/** Why the patch cannot apply to this connection, or null when it can. */
export function flushPatchProblem(nc: NatsConnection): string | null {
  const p = (nc as unknown as { protocol?: Partial<Protocol> }).protocol;
  if (!p) return "the connection has no protocol handler";
  if (typeof p.sendCommand !== "function") return "protocol.sendCommand is not a function";
  if (typeof p.flushPending !== "function") return "protocol.flushPending is not a function";
  if (typeof p.pendingLimit !== "number") return "protocol.pendingLimit is not a number";
  const o = p.outbound as Partial<Outbound> | undefined;
  if (!o || typeof o.fill !== "function" || typeof o.size !== "function")
    return "protocol.outbound has no fill/size";
  return null;
}

/**
 * Makes `nc` write its pending messages once per event-loop turn. Returns
 * false (and changes nothing) when the client's internals are not the ones
 * this was written for.
 *
 * @example
 * const nc = await connect({ servers });
 * if (!flushOncePerTurn(nc)) logger.warn("NATS writes stay one per message");
 */
export function flushOncePerTurn(nc: NatsConnection): boolean {
  if (flushPatchProblem(nc)) return false;
  const protocol = (nc as unknown as { protocol: Protocol & { [PATCHED]?: true } }).protocol;
  if (protocol[PATCHED]) return true;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    protocol.flushPending();
  };
  protocol.sendCommand = function sendCommandOncePerTurn(cmd, ...payloads) {
    this.outbound.fill(typeof cmd === "string" ? encoder.encode(cmd) : cmd, ...payloads);
    if (this.outbound.size() >= this.pendingLimit) {
      this.flushPending();
    } else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  protocol[PATCHED] = true;
  return true;
}
