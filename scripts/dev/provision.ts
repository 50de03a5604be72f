/**
 * Provisions the streams, durables, task and result queues and KV buckets of
 * the service folders, as the provisioner: what `npm run dev` does before it
 * starts the services, and what `runnerly provision` does against any NATS.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { CANARY_BUCKET, openKvBucket } from "@runnerly/kit";
import { provisionMesh } from "@runnerly/kit/events";
import { meshProvision } from "@runnerly/kit/security";
import type { DescribedService } from "./nats-access.ts";

/**
 * Creates or updates every stream and durable the described services need
 * (event streams, consumers' durables, each worker's `TASKS_<NAME>` and each
 * requester's `RESULTS_<NAME>` with their durables), and creates their KV
 * buckets (an existing bucket is left as it is).
 * Returns the failures (each "what: why"); `note` hears every outcome.
 *
 * @example
 * const failed = await provisionServices(nc, await describeServices(findServices("services")), process.env, step);
 */
export async function provisionServices(
  nc: NatsConnection,
  described: DescribedService[],
  env: Record<string, string | undefined>,
  note: (line: string) => void,
): Promise<string[]> {
  const definitions = described.flatMap((d) => (d.definition ? [d.definition] : []));
  const plan = meshProvision(definitions, env);
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });
  const failed = await provisionMesh(jsm, plan, (what, outcome, detail) =>
    note(`${what}: ${outcome}${detail ? ` (${detail})` : ""}`),
  );
  const replicas = Number(env.EVENTS_REPLICAS ?? 1);
  for (const bucket of definitions.flatMap((d) => d.kvBuckets ?? [])) {
    try {
      await openKvBucket(nc, bucket, replicas, 10_000);
      note(`kv ${bucket.name}: ready`);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      note(`kv ${bucket.name}: failed (${detail})`);
      failed.push(`kv ${bucket.name}: ${detail}`);
    }
  }
  // The edges' canary settings (runnerly canary): a small KV bucket, history of 10 per service.
  try {
    await new Kvm(jsm.jetstream()).create(CANARY_BUCKET, {
      history: 10,
      replicas: Number(env.EVENTS_REPLICAS ?? 1),
    });
    note(`kv ${CANARY_BUCKET}: ready`);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    note(`kv ${CANARY_BUCKET}: failed (${detail})`);
    failed.push(`kv ${CANARY_BUCKET}: ${detail}`);
  }
  return failed;
}
