/**
 * The JetStream API subjects a kit consumer really uses, found by running the
 * services under these permissions and reading nats-server's
 * `Permissions Violation` lines (see scripts/dev/permissions.test.ts).
 */

/** A durable consumer a service keeps on a stream. */
export type StreamReader = {
  /** `EVENTS_RUNS` */
  stream: string;
  /** `stats-update-totals` */
  durable: string;
  /** Rebuilds read the stream from the start through an ordered consumer with a generated name. */
  rebuild?: boolean;
};

/**
 * Publish permissions for one durable consumer, and what to deny so that a
 * rebuild's wildcard on the stream cannot reach another service's durable.
 *
 * The durable (nats.js v3 on nats-server ≥ 2.9): `CONSUMER.INFO.<s>.<d>`, then
 * `CONSUMER.CREATE.<s>.<d>.<filter>` to create or update it, pulls on
 * `CONSUMER.MSG.NEXT.<s>.<d>` (messages arrive on the client's inbox), and
 * acks, naks, terms and in-progress on `$JS.ACK.<s>.<d>.>`: `allow_responses`
 * covers one reply per message, and a slow handler sends several. Other
 * clients may create it without a filter token or through the older
 * `CONSUMER.DURABLE.CREATE.<s>.<d>`: both are allowed, for that durable only.
 *
 * A rebuild (an ordered consumer the client names `<nuid>_<n>`):
 * `STREAM.INFO.<s>`, `CONSUMER.CREATE.<s>.<name>.<filter>`,
 * `CONSUMER.MSG.NEXT.<s>.<name>` and `CONSUMER.DELETE.<s>.<name>` at the end.
 * The name is not known in advance, so these are allowed for any name on that
 * stream, minus the durables of every other service.
 *
 * @example
 * consumerPermissions({ stream: "EVENTS_RUNS", durable: "stats-update-totals", rebuild: true }, durables);
 */
export function consumerPermissions(
  c: StreamReader,
  durablesOnStream: { owner: string; durable: string }[],
): { allow: string[]; deny: string[] } {
  const api = "$JS.API.CONSUMER";
  const own = `${c.stream}.${c.durable}`;
  const allow = [
    `${api}.INFO.${own}`,
    `${api}.CREATE.${own}`,
    `${api}.CREATE.${own}.>`,
    `${api}.DURABLE.CREATE.${own}`,
    `${api}.MSG.NEXT.${own}`,
    `$JS.ACK.${own}.>`,
  ];
  if (!c.rebuild) return { allow, deny: [] };
  const any = `${c.stream}.*`;
  allow.push(
    `$JS.API.STREAM.INFO.${c.stream}`,
    `${api}.CREATE.${any}.>`,
    `${api}.MSG.NEXT.${any}`,
    `${api}.DELETE.${any}`,
  );
  const deny = durablesOnStream
    .filter((d) => d.durable !== c.durable)
    .flatMap(({ durable }) => {
      const theirs = `${c.stream}.${durable}`;
      return [`${api}.CREATE.${theirs}.>`, `${api}.MSG.NEXT.${theirs}`, `${api}.DELETE.${theirs}`];
    });
  return { allow, deny };
}
