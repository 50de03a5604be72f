/**
 * Classifies the errors @nats-io/nats-core raises for a request, so the edge
 * can answer 503 or 504 instead of a generic 502. Checks by class first and by
 * name second: a bundler may load two copies of nats-core (Deno, workerd), and
 * `instanceof` fails across copies.
 */
import { errors } from "@nats-io/nats-core";

/** True when the server said nobody subscribes to the subject (a 503 status reply). */
export function isNoResponders(err: unknown): boolean {
  if (err instanceof errors.NoRespondersError) return true;
  if (err instanceof errors.RequestError) return err.isNoResponders();
  if (!(err instanceof Error)) return false;
  return err.name === "NoResponders" || (err.cause instanceof Error && err.cause.name === "NoResponders");
}

/** True when a request got no reply before its timeout. */
export function isTimeout(err: unknown): boolean {
  return err instanceof errors.TimeoutError || (err instanceof Error && err.name === "TimeoutError");
}

/** True when the connection is closed or draining, so no request can be sent at all. */
export function isConnectionGone(err: unknown): boolean {
  return (
    err instanceof errors.ClosedConnectionError ||
    err instanceof errors.DrainingConnectionError ||
    (err instanceof Error && (err.name === "ClosedConnectionError" || err.name === "DrainingConnectionError"))
  );
}

/** True when a message is larger than the server's `max_payload` (body plus headers), so it was never sent. */
export function isPayloadTooLarge(err: unknown): boolean {
  return err instanceof Error && err.name === "InvalidArgumentError" && err.message.includes("max_payload");
}
