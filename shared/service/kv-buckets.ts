/**
 * NATS KV buckets a service declares (`defineService({ kvBuckets })`): state
 * its instances share, such as counters, with entries that expire by the
 * bucket's TTL. On a secured NATS the provisioner creates them before the
 * services start (a stream's configuration may capture any subject, so a
 * service may not create one); a service only checks that its bucket is
 * there, reads keys and writes them. Without such permissions a service makes
 * its own, as it does its event stream.
 */
import { jetstream, StorageType } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";

/** A KV bucket of a service: its name and how long an entry lives after its last write. */
export type KvBucketDefinition = {
  /** Bucket name (`[A-Za-z0-9_-]+`); its stream is `KV_<name>`. */
  name: string;
  /** An entry is dropped this long after its last write (the stream's max age). */
  ttlMs: number;
  /** Largest size of the bucket; default 64 MiB. */
  maxBytes?: number;
  /** Where the servers keep it; default `file` (survives a server restart). */
  storage?: "file" | "memory";
};

/** A bucket that is missing and that this connection may not create. */
export class KvBucketNotProvisionedError extends Error {}

/**
 * Opens a declared bucket, creating it when it is missing and this
 * connection may (the provisioner, or a service on an open server). An
 * existing bucket is opened as it is. Throws `KvBucketNotProvisionedError`
 * when it is missing and may not be created here.
 *
 * @example
 * const kv = await openKvBucket(nc, { name: "accounts_login_failures", ttlMs: 86_400_000 }, 1);
 * await kv.create("key", "value");
 */
export async function openKvBucket(
  nc: NatsConnection,
  bucket: KvBucketDefinition,
  replicas: number,
  timeoutMs = 5_000,
): Promise<KV> {
  // Loaded here, not at start-up: most services declare no bucket.
  const { Kvm } = await import("@nats-io/kv");
  const kvm = new Kvm(jetstream(nc, { timeout: timeoutMs }));
  try {
    return await kvm.create(bucket.name, {
      history: 1,
      replicas,
      ttl: bucket.ttlMs,
      max_bytes: bucket.maxBytes ?? 64 * 1024 * 1024,
      storage: bucket.storage === "memory" ? StorageType.Memory : StorageType.File,
      timeout: timeoutMs,
    });
  } catch (err) {
    if (!/permission|authorization/i.test(String(err))) {
      // Two instances starting at once both found it missing and the other made it first
      // ("subjects overlap with an existing stream"): open the one that is there now.
      const made = await kvm.open(bucket.name).catch(() => null);
      if (made && (await made.status().catch(() => null))) return made;
      throw err;
    }
    throw new KvBucketNotProvisionedError(
      `KV bucket ${bucket.name} does not exist and this service may not create it; provision it with the provisioner's credentials (npm run dev does; elsewhere \`runnerly provision\`)`,
      { cause: err },
    );
  }
}
