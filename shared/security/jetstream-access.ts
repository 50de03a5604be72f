/**
 * The JetStream API subjects a kit consumer really uses, found by running the
 * services under these permissions and reading nats-server's
 * `Permissions Violation` lines (see tests/permissions/permissions.test.ts).
 */

/** A durable consumer a service keeps on a stream. */
export type StreamReader = {
  /** `EVENTS_RUNS` */
  stream: string;
  /** `stats-update-totals` */
  durable: string;
  /** Rebuilds read the stream from the start (read-only message gets). */
  rebuild?: boolean;
};

/**
 * Publish permissions for one durable consumer the service pulls from but
 * may not create or change (the provisioner does, see `provisionerApi`):
 * `CONSUMER.INFO.<s>.<d>` to check it, pulls on `CONSUMER.MSG.NEXT.<s>.<d>`
 * (messages arrive on the client's inbox), and acks, naks, terms and
 * in-progress on `$JS.ACK.<s>.<d>.>` (`allow_responses` covers one reply per
 * message, and a slow handler sends several).
 *
 * `selfProvision` adds creating and updating that one durable
 * (`CONSUMER.CREATE.<s>.<d>[.<filter>]`, older clients'
 * `CONSUMER.DURABLE.CREATE.<s>.<d>`): for foreign services that provision
 * their own. A consumer's configuration may name a subject to deliver to, so
 * that right lets a service make the server publish the stream anywhere;
 * grant it only to services trusted that far.
 *
 * A rebuild reads the stream from the start with the read-only message API,
 * `STREAM.MSG.GET.<s>` (shared/events/read-stream.ts), and creates nothing.
 *
 * @example
 * consumerPermissions({ stream: "EVENTS_RUNS", durable: "stats-update-totals", rebuild: true });
 */
export function consumerPermissions(c: StreamReader, selfProvision = false): string[] {
  const api = "$JS.API.CONSUMER";
  const own = `${c.stream}.${c.durable}`;
  return [
    `${api}.INFO.${own}`,
    ...(selfProvision
      ? [`${api}.CREATE.${own}`, `${api}.CREATE.${own}.>`, `${api}.DURABLE.CREATE.${own}`]
      : []),
    `${api}.MSG.NEXT.${own}`,
    `$JS.ACK.${own}.>`,
    ...(c.rebuild ? [`$JS.API.STREAM.MSG.GET.${c.stream}`] : []),
  ];
}

/**
 * What the provisioner may do for these streams and durables: read, create
 * and update them; never delete or purge, never pull or publish events.
 *
 * @example
 * provisionerApi(["EVENTS_RUNS"], [{ stream: "EVENTS_RUNS", durable: "stats-update-totals" }]);
 */
export function provisionerApi(streams: string[], durables: StreamReader[]): string[] {
  const api = "$JS.API.CONSUMER";
  return [
    ...streams.flatMap((s) => ["INFO", "CREATE", "UPDATE"].map((verb) => `$JS.API.STREAM.${verb}.${s}`)),
    ...durables.flatMap(({ stream, durable }) => {
      const own = `${stream}.${durable}`;
      return [
        `$JS.API.STREAM.INFO.${stream}`,
        `${api}.INFO.${own}`,
        `${api}.CREATE.${own}`,
        `${api}.CREATE.${own}.>`,
        `${api}.DURABLE.CREATE.${own}`,
      ];
    }),
  ];
}

/**
 * Publish permissions for a KV bucket a service keeps shared state in but
 * does not create (the provisioner does): the stream's info (opening it),
 * direct gets of its keys, and writes to its keys (`$KV.<b>.>`: put,
 * compare-and-set, delete; each write's acknowledgement comes back as a
 * reply). No purge, no delete of the stream, no other bucket. `selfProvision`
 * adds creating it.
 *
 * @example
 * kvBucketPermissions("accounts_login_failures");
 */
export function kvBucketPermissions(bucket: string, selfProvision = false): string[] {
  const stream = `KV_${bucket}`;
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    ...(selfProvision ? [`$JS.API.STREAM.CREATE.${stream}`] : []),
    `$JS.API.DIRECT.GET.${stream}.$KV.${bucket}.>`,
    `$KV.${bucket}.>`,
  ];
}

/**
 * Publish permissions for watching a KV bucket without writing it (an ordered
 * push consumer, as `kv.watch()` makes one): the stream's info, creating the
 * watcher's consumer with the bucket's own keys as its filter, its info,
 * and the flow-control replies (the server drops the consumer once nobody
 * listens on its delivery subject). Messages come to the client's
 * own inbox. A consumer's configuration names where it delivers, so this
 * lets the holder have this one bucket's entries sent to any subject; they
 * are what it may read anyway.
 *
 * @example
 * kvWatchPermissions("revoked_sessions");
 */
export function kvWatchPermissions(bucket: string): string[] {
  const stream = `KV_${bucket}`;
  const api = "$JS.API.CONSUMER";
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `${api}.CREATE.${stream}.*.$KV.${bucket}.>`,
    `${api}.INFO.${stream}.*`,
    `$JS.FC.${stream}.>`,
  ];
}
