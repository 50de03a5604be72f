/**
 * `runnerly canary <service> <major> <percent>` and `runnerly rollback
 * <service>`: write a service's canary setting into the edges' shared KV
 * bucket (`edge_canary`, made by the provisioner). Every edge reads it within
 * its poll interval (1 s), so traffic moves without restarting anything.
 */
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { CANARY_BUCKET, type Canary, canaryFrom, canaryKeySubject } from "@runnerly/kit";

/**
 * Stores `setting` for `service` (a JetStream publish to its key: acknowledged once stored).
 *
 * @example
 * await setCanary(nc, "runs", { major: 2, percent: 10 });
 */
export async function setCanary(
  nc: NatsConnection,
  service: string,
  setting: Canary,
  bucket = CANARY_BUCKET,
): Promise<void> {
  if (!/^[A-Za-z0-9_-]+$/.test(service)) throw new Error(`"${service}" is not a service name`);
  if (!Number.isInteger(setting.major) || setting.major < 0)
    throw new Error("the major version must be a whole number");
  if (!(setting.percent >= 0 && setting.percent <= 100))
    throw new Error("the percentage must be between 0 and 100");
  try {
    await jetstream(nc).publish(`$KV.${bucket}.${service}`, JSON.stringify(setting), { timeout: 5000 });
  } catch (err) {
    throw new Error(
      `could not store the canary setting (${String(err)}); the bucket ${bucket} is made by \`runnerly provision\``,
    );
  }
}

/**
 * The stored setting of `service`, or null.
 *
 * @example
 * await getCanary(nc, "runs"); // { major: 2, percent: 10 }
 */
export async function getCanary(
  nc: NatsConnection,
  service: string,
  bucket = CANARY_BUCKET,
): Promise<Canary | null> {
  return canaryFrom(await nc.request(canaryKeySubject(bucket, service), "", { timeout: 5000 }));
}
