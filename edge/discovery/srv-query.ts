/**
 * One `$SRV` query (ADR-32 PING, INFO or STATS) to every instance that
 * answers, for discovery and the dashboard. Raw `requestMany` rather than the
 * services client: that client ends the whole query at the first reply that
 * is not JSON, so one broken instance would blind it to every other service.
 * Web standards only.
 */
import { Empty, type NatsConnection } from "@nats-io/nats-core";
import { isNoResponders } from "../proxy/nats-errors.ts";

/**
 * "answered": at least one reply; "none": the server said nobody listens (a
 * definite empty answer); "silent": no reply and no verdict (e.g. the
 * connection is down), which must not be read as "everything stopped".
 */
export type SrvOutcome = "answered" | "silent" | "none";

/**
 * Sends `subject` and hands each reply's JSON body to `onReply` (undefined
 * for a reply that is not JSON) until replies stop for `maxWaitMs`. Throws
 * what NATS throws, except no responders, which is the outcome `none`.
 *
 * @example
 * await querySrv(nc, "$SRV.INFO", (body) => upsert(body), 300);
 */
export async function querySrv(
  nc: NatsConnection,
  subject: string,
  onReply: (body: unknown) => void,
  maxWaitMs: number,
): Promise<SrvOutcome> {
  let replies = 0;
  try {
    const iter = await nc.requestMany(subject, Empty, { strategy: "stall", maxWait: maxWaitMs });
    for await (const m of iter) {
      replies += 1;
      onReply(parseJson(m.data));
    }
  } catch (err) {
    if (!isNoResponders(err)) throw err;
    return replies > 0 ? "answered" : "none";
  }
  return replies > 0 ? "answered" : "silent";
}

/** The JSON value of a message body; undefined when it is not JSON. */
export function parseJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}
