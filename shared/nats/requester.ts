/**
 * Request-reply for many requests in flight (the edge's tries, the outbox
 * relay's publishes): one wildcard subscription under the connection's inbox,
 * a reply token per request, and a table of who waits for which token. This
 * is what `nc.request` does too, less what these callers do not need per
 * request: nats-core builds a request object, a deferred promise and a timer
 * promise for each, and on every answered request makes (and throws away) a
 * `RequestError("cancelled")` with its stack — about a tenth of the edge's CPU
 * per proxied request (BENCHMARKS.md). Rejects as `nc.request` does
 * (`NoRespondersError`, `TimeoutError`, or what `publish` throws), so callers
 * classify both alike. Web standards and nats-core's core API only.
 */
import { createInbox, errors, type Msg, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core";

type Waiting = {
  resolve(msg: Msg): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
  subject: string;
};

/**
 * Sends requests over one reply subscription of its own, made at the first
 * request (and again should the connection have closed it).
 *
 * @example
 * const requester = new Requester(nc);
 * const msg = await requester.request("svc.runs.http", body, headers, 3000);
 */
export class Requester {
  /** The connection it sends on. */
  readonly nc: NatsConnection;
  readonly #waiting = new Map<string, Waiting>();
  #prefix = "";
  #sub: ReturnType<NatsConnection["subscribe"]> | null = null;
  #next = 0;

  constructor(nc: NatsConnection) {
    this.nc = nc;
  }

  /** Requests waiting for their reply now. */
  get pending(): number {
    return this.#waiting.size;
  }

  /** Publishes `body` to `subject` and settles with its first reply, or rejects within `timeoutMs`. */
  request(subject: string, body: Uint8Array, headers: MsgHdrs, timeoutMs: number): Promise<Msg> {
    return new Promise<Msg>((resolve, reject) => {
      let token: string;
      try {
        token = this.#token();
        this.nc.publish(subject, body, { headers, reply: this.#prefix + token });
      } catch (err) {
        reject(err as Error);
        return;
      }
      const timer = setTimeout(() => {
        this.#waiting.delete(token);
        reject(new errors.TimeoutError());
      }, timeoutMs);
      this.#waiting.set(token, { resolve, reject, timer, subject });
    });
  }

  /** A new reply token, the subscription made first if there is none. */
  #token(): string {
    if (!this.#sub || this.#sub.isClosed()) {
      this.#prefix = `${createInbox(inboxPrefixOf(this.nc))}.`;
      this.#sub = this.nc.subscribe(`${this.#prefix}*`, {
        callback: (err, msg) => {
          if (!err) this.#receive(msg);
        },
      });
    }
    this.#next = (this.#next + 1) % Number.MAX_SAFE_INTEGER;
    return this.#next.toString(36);
  }

  #receive(msg: Msg): void {
    const token = msg.subject.slice(this.#prefix.length);
    const waiting = this.#waiting.get(token);
    if (!waiting) return; // timed out already: nobody waits for it
    this.#waiting.delete(token);
    clearTimeout(waiting.timer);
    if (isNoRespondersReply(msg)) waiting.reject(new errors.NoRespondersError(waiting.subject));
    else waiting.resolve(msg);
  }
}

/** The inbox prefix the connection was given (a NATS user may subscribe only under its own). */
export function inboxPrefixOf(nc: NatsConnection): string | undefined {
  // nats-core's connection keeps its options public; the interface does not list them.
  return (nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
}

/**
 * True for nats-server's own answer to a request nobody subscribes to: an
 * empty message with status 503 (what nc.request turns into a NoRespondersError).
 */
export function isNoRespondersReply(msg: Msg): boolean {
  return msg.data.length === 0 && msg.headers?.code === 503;
}
