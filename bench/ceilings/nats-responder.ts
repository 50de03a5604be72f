/**
 * The NATS ceiling's responder: a raw nats.js subscription in a queue group
 * answering every request with the small JSON, with no kit, no Hono and no
 * Services API in the way. Requests with metadata (as headers or a JSON
 * envelope, see meta.ts) get it read and a reply with metadata of the same kind.
 *
 *   NATS_URL=nats://127.0.0.1:4222 bun bench/ceilings/nats-responder.ts
 */
import { connect } from "@nats-io/transport-node";
import { answer } from "./meta.ts";

/** The subject the NATS ceiling is measured on. */
export const CEILING_SUBJECT = "bench.ceiling";

if (import.meta.main) {
  const nc = await connect({
    servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    name: "bench-responder",
  });
  nc.subscribe(CEILING_SUBJECT, {
    queue: "q",
    callback(_err, msg) {
      const { data, headers } = answer(msg);
      msg.respond(data, headers ? { headers } : undefined);
    },
  });
  await nc.flush();
  console.log(`nats responder on ${CEILING_SUBJECT}`);
  process.on("SIGTERM", () => {
    void nc.drain().then(() => process.exit(0));
  });
}
