/**
 * The users that are not services: the edge (the only publisher to
 * `svc.*.http`), operators (the `runnerly` command, key rotation) and the
 * provisioner (streams and durables, before the services start).
 */
import { ANNOUNCE_SUBJECT } from "../protocol/index.ts";
import { CANARY_BUCKET } from "../protocol/levels.ts";
import { REVOKED_SESSIONS_BUCKET } from "../protocol/sessions.ts";
import { kvWatchPermissions, provisionerApi, type StreamReader } from "./jetstream-access.ts";
import {
  EDGE_USER,
  type EdgeAccess,
  NAME,
  type NatsPermissions,
  OPERATOR_USER,
  PROVISIONER_USER,
  RPC_SUBJECT,
} from "./types.ts";

/**
 * The edge alone may publish to `svc.*.http`; it queries `$SRV` for discovery,
 * fetches the JWKS, keeps its shared rate-limit buckets in a KV bucket,
 * watches the revoked sessions (read only), and listens to every service's
 * announcements (`mesh.announce.*`) and its own inbox; the workers of one
 * edge ask each other for their figures on `edge.<pool id>.figures`.
 *
 * @example
 * edgePermissions({ kvBuckets: [] }).publish.allow; // ["svc.*.http", "$SRV.>", "svc.accounts.rpc.jwks"]
 */
export function edgePermissions(edge: EdgeAccess = {}): NatsPermissions {
  const calls = edge.calls ?? ["svc.accounts.rpc.jwks"];
  const buckets = edge.kvBuckets ?? ["edge_rate_limits"];
  const watched = edge.watches ?? [REVOKED_SESSIONS_BUCKET];
  for (const c of calls) if (!RPC_SUBJECT.test(c)) throw new Error(`edge call "${c}" is not an RPC subject`);
  for (const b of [...buckets, ...watched])
    if (!NAME.test(b)) throw new Error(`edge KV bucket "${b}" must match ${NAME}`);
  return {
    publish: {
      allow: [
        "svc.*.http",
        // One major version's surface (`Api-Version`, canaries), svc.<name>.http.v<major>, and one
        // instance's (the edge picks the instance of each try), svc.<name>.http.<instance-id>.
        "svc.*.http.*",
        "$SRV.>",
        ...calls,
        // A KV bucket (edge/middleware/ratelimit/shared-buckets.ts): create or open it, read keys, write by compare-and-set.
        ...(buckets.length > 0 || watched.length > 0 ? ["$JS.API.INFO"] : []),
        // Canary settings (shared/protocol/levels.ts): read one key at a time, never write.
        `$JS.API.DIRECT.GET.KV_${CANARY_BUCKET}.$KV.${CANARY_BUCKET}.>`,
        ...buckets.flatMap((b) => [
          `$JS.API.STREAM.INFO.KV_${b}`,
          `$JS.API.STREAM.CREATE.KV_${b}`,
          `$JS.API.DIRECT.GET.KV_${b}.$KV.${b}.>`,
          `$KV.${b}.>`,
        ]),
        // Revoked sessions (edge/middleware/auth/revoked-sessions.ts): watched, never written.
        ...watched.flatMap(kvWatchPermissions),
        // The workers of one edge ask each other for their figures (edge/ops/dashboard/workers.ts).
        "edge.*.figures",
      ],
    },
    subscribe: { allow: [ANNOUNCE_SUBJECT, `_INBOX.${EDGE_USER}.>`, "edge.*.figures"] },
    // A worker answers its siblings' requests for figures (once each, to their inboxes).
    allow_responses: true,
  };
}

/**
 * Operators (the `runnerly` command, key rotation) call admin and RPC
 * endpoints and `$SRV`, and read event streams through ordered consumers
 * (`runnerly events tail`); never `svc.*.http`, publishing events, or the
 * services' durables (`durables`: every one the services declared).
 *
 * @example
 * operatorPermissions([{ stream: "EVENTS_RUNS", durable: "stats-update-totals" }]);
 */
export function operatorPermissions(durables: StreamReader[] = []): NatsPermissions {
  const api = "$JS.API.CONSUMER";
  const deny = durables.flatMap(({ stream, durable }) => [
    `${api}.CREATE.${stream}.${durable}`,
    `${api}.MSG.NEXT.${stream}.${durable}`,
  ]);
  return {
    publish: {
      allow: [
        "$SRV.>",
        "svc.*.admin.rpc.>",
        "svc.*.rpc.>",
        // events tail: an ordered consumer without a filter (stream info, create, pull); the
        // server drops it when idle, so it needs no delete.
        "$JS.API.STREAM.INFO.*",
        `${api}.CREATE.*.*`,
        `${api}.MSG.NEXT.*.*`,
        // runnerly canary / rollback: read and write the edges' canary settings.
        `$KV.${CANARY_BUCKET}.>`,
        `$JS.API.DIRECT.GET.KV_${CANARY_BUCKET}.$KV.${CANARY_BUCKET}.>`,
      ],
      ...(deny.length > 0 ? { deny } : {}),
    },
    subscribe: { allow: [`_INBOX.${OPERATOR_USER}.>`] },
  };
}

/**
 * The provisioner creates and updates the services' streams and durables
 * (shared/events/provision.ts) so that the services need no such right:
 * exactly these streams and durables, never delete or purge, never events.
 *
 * @example
 * provisionerPermissions(["EVENTS_RUNS"], [{ stream: "EVENTS_RUNS", durable: "stats-update-totals" }]);
 */
export function provisionerPermissions(streams: string[], durables: StreamReader[]): NatsPermissions {
  const api = [
    ...provisionerApi(streams, durables),
    // The edges' canary settings, a KV bucket (runnerly canary writes it, the edges read it).
    ...["INFO", "CREATE", "UPDATE"].map((verb) => `$JS.API.STREAM.${verb}.KV_${CANARY_BUCKET}`),
  ];
  return {
    // nats-server reads an empty allow list as "everything": with nothing to provision, account info only.
    publish: { allow: ["$JS.API.INFO", ...api.filter((s, i) => api.indexOf(s) === i)] },
    subscribe: { allow: [`_INBOX.${PROVISIONER_USER}.>`] },
  };
}
