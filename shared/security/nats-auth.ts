/**
 * Least-privilege NATS users for a mesh: one per service, one for the edge and
 * one for operators. Pure functions from service descriptions to permissions
 * and to the nats-server `authorization` block; writing files and hashing
 * passwords live in `credentials.ts`. Each user reads replies only under
 * `_INBOX.<user>.>` (connectNats sets that prefix; other clients set it
 * themselves, e.g. Go's `nats.CustomInboxPrefix`), so no service can read
 * another's replies, the edge's included.
 */
import { streamName } from "../events/define.ts";
import { consumerPermissions, type StreamReader } from "./jetstream-access.ts";

/** What a service does on NATS, as far as its permissions go. */
export type ServiceAccess = {
  /** Service name: its NATS user, its subjects `svc.<name>.>`, its stream `EVENTS_<NAME>`. */
  name: string;
  /** Publishes events on `events.<name>.>` into its own stream. */
  events: boolean;
  /** Durable consumers it keeps on streams (`rebuild`: may also read the stream with ordered consumers). */
  consumes: StreamReader[];
  /** RPC subjects it calls: `svc.stats.rpc.weeklyTotals`. */
  calls: string[];
  /**
   * Lets it subscribe to `_INBOX.>` instead of only `_INBOX.<name>.>`: for
   * clients that cannot set an inbox prefix. Such a client can read every
   * reply on the server, so use it for trusted tools only.
   */
  sharedInbox?: boolean;
};

/** nats-server permissions of one user (its config syntax). */
export type NatsPermissions = {
  publish: { allow: string[]; deny?: string[] };
  subscribe: { allow: string[]; deny?: string[] };
  /** May answer requests it received (once each), whatever their reply subject. */
  allow_responses?: boolean;
};

export type NatsUser = { user: string; role: "service" | "edge" | "operator"; permissions: NatsPermissions };

/** What the edge needs besides `svc.*.http`, `$SRV` and announcements. */
export type EdgeAccess = {
  /** RPC subjects it calls (default: the accounts JWKS, `svc.accounts.rpc.jwks`). */
  calls?: string[];
  /** NATS KV buckets it keeps shared state in (default: `edge_rate_limits`, for rate limits). */
  kvBuckets?: string[];
};

export type NatsUsersOptions = { edge?: EdgeAccess };

/** The users that are not services; no service may take their names. */
export const EDGE_USER = "edge";
export const OPERATOR_USER = "operator";

const NAME = /^[A-Za-z0-9_-]+$/;
const RPC_SUBJECT = /^svc\.[A-Za-z0-9_-]+\.rpc\.[A-Za-z0-9_-]+$/;
const SRV_VERBS = ["PING", "INFO", "STATS"] as const;

/**
 * Every user of a mesh: the services (sorted by name), then the edge and the operator.
 * Throws on a bad name, a reserved name, a duplicate, a call that is not an
 * RPC subject, or one durable claimed by two services.
 *
 * @example
 * const users = natsUsers([{ name: "plans", events: false, consumes: [], calls: ["svc.stats.rpc.weeklyTotals"] }]);
 */
export function natsUsers(services: ServiceAccess[], options: NatsUsersOptions = {}): NatsUser[] {
  checkServices(services);
  const sorted = [...services].sort((a, b) => a.name.localeCompare(b.name));
  return [
    ...sorted.map((s) => ({
      user: s.name,
      role: "service" as const,
      permissions: servicePermissions(s, sorted),
    })),
    { user: EDGE_USER, role: "edge", permissions: edgePermissions(options.edge) },
    { user: OPERATOR_USER, role: "operator", permissions: operatorPermissions(allDurables(sorted)) },
  ];
}

/**
 * A service may subscribe only to its own subjects, its ADR-32 `$SRV` subjects
 * and its own reply inbox; it may publish only its events, announcements, the
 * RPCs it declared, replies to requests it received, and the JetStream API of
 * its own stream and its own consumers (`others` are every service, to keep
 * their durables out of reach).
 */
export function servicePermissions(s: ServiceAccess, others: ServiceAccess[]): NatsPermissions {
  const stream = streamName(s.name);
  const jetstream = s.events || s.consumes.length > 0;
  const consumers = s.consumes.map((c) => consumerPermissions(c, durablesOn(c.stream, others)));
  const publishDeny = consumers.flatMap((c) => c.deny);
  return {
    publish: {
      allow: [
        "mesh.announce",
        ...s.calls,
        ...(s.events ? [`events.${s.name}.>`] : []),
        // jetstreamManager() asks for the account's JetStream info before anything else.
        ...(jetstream ? ["$JS.API.INFO"] : []),
        // ensureEventStream: info, then create or update; never delete or purge.
        ...(s.events ? ["INFO", "CREATE", "UPDATE"].map((verb) => `$JS.API.STREAM.${verb}.${stream}`) : []),
        ...consumers.flatMap((c) => c.allow),
      ].filter(unique),
      ...(publishDeny.length > 0 ? { deny: publishDeny.filter(unique) } : {}),
    },
    subscribe: {
      allow: [
        `svc.${s.name}.>`,
        ...SRV_VERBS.flatMap((v) => [`$SRV.${v}`, `$SRV.${v}.${s.name}`, `$SRV.${v}.${s.name}.>`]),
        // Replies to its own requests; a service that never asks anything needs none.
        ...(s.calls.length > 0 || jetstream || s.sharedInbox ? [inboxOf(s)] : []),
      ],
    },
    allow_responses: true,
  };
}

/**
 * The edge alone may publish to `svc.*.http`; it queries `$SRV` for discovery,
 * fetches the JWKS, keeps its shared rate-limit buckets in a KV bucket, and
 * listens to announcements and its own inbox.
 */
export function edgePermissions(edge: EdgeAccess = {}): NatsPermissions {
  const calls = edge.calls ?? ["svc.accounts.rpc.jwks"];
  const buckets = edge.kvBuckets ?? ["edge_rate_limits"];
  for (const c of calls) if (!RPC_SUBJECT.test(c)) throw new Error(`edge call "${c}" is not an RPC subject`);
  for (const b of buckets) if (!NAME.test(b)) throw new Error(`edge KV bucket "${b}" must match ${NAME}`);
  return {
    publish: {
      allow: [
        "svc.*.http",
        "$SRV.>",
        ...calls,
        // A KV bucket (edge/ratelimit/shared-buckets.ts): create or open it, read keys, write by compare-and-set.
        ...(buckets.length > 0 ? ["$JS.API.INFO"] : []),
        ...buckets.flatMap((b) => [
          `$JS.API.STREAM.INFO.KV_${b}`,
          `$JS.API.STREAM.CREATE.KV_${b}`,
          `$JS.API.DIRECT.GET.KV_${b}.$KV.${b}.>`,
          `$KV.${b}.>`,
        ]),
      ],
    },
    subscribe: { allow: ["mesh.announce", `_INBOX.${EDGE_USER}.>`] },
  };
}

/**
 * Operators (the `runnerly` command, key rotation) call admin and RPC
 * endpoints and `$SRV`, and read event streams through ordered consumers
 * (`runnerly events tail`); never `svc.*.http`, publishing events, or the
 * services' durables (`durables`: every one the services declared).
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
      ],
      ...(deny.length > 0 ? { deny } : {}),
    },
    subscribe: { allow: [`_INBOX.${OPERATOR_USER}.>`] },
  };
}

/**
 * The nats-server `authorization { users: [...] }` block. `passwords` maps each
 * user to what the server stores: a bcrypt hash (`$2b$…`) or, failing that,
 * the password itself. No `no_auth_user`: anonymous clients are refused.
 *
 * @example
 * const text = renderAuthorization(users, new Map([["runs", "$2b$10$…"]]));
 */
export function renderAuthorization(users: NatsUser[], passwords: Map<string, string>): string {
  const entries = users.map((u) => {
    const password = passwords.get(u.user);
    if (!password) throw new Error(`no password for NATS user ${u.user}`);
    // nats-server reads an empty allow list as "no restriction".
    if (u.permissions.publish.allow.length === 0 || u.permissions.subscribe.allow.length === 0)
      throw new Error(
        `NATS user ${u.user} would have an empty allow list, which nats-server reads as "everything"`,
      );
    // JSON is valid nats-server config; quoted strings keep `$` literal (no variable expansion).
    return `    ${JSON.stringify({ user: u.user, password, permissions: u.permissions })}`;
  });
  return ["authorization {", "  users: [", entries.join(",\n"), "  ]", "}", ""].join("\n");
}

/** The reply inbox a user's client must use (`connectNats` sets `_INBOX.<user>` from the user name). */
const inboxOf = (s: ServiceAccess): string => (s.sharedInbox ? "_INBOX.>" : `_INBOX.${s.name}.>`);

/** Every durable any service keeps on `stream`, with its owner. */
function durablesOn(stream: string, services: ServiceAccess[]): { owner: string; durable: string }[] {
  return services.flatMap((s) =>
    s.consumes.filter((c) => c.stream === stream).map((c) => ({ owner: s.name, durable: c.durable })),
  );
}

function allDurables(services: ServiceAccess[]): StreamReader[] {
  return services.flatMap((s) => s.consumes);
}

function checkServices(services: ServiceAccess[]): void {
  const names = new Set<string>();
  const durables = new Map<string, string>();
  for (const s of services) {
    if (!NAME.test(s.name)) throw new Error(`service name "${s.name}" must match ${NAME}`);
    if (s.name === EDGE_USER || s.name === OPERATOR_USER)
      throw new Error(`"${s.name}" is reserved for the ${s.name} user; rename the service`);
    if (names.has(s.name)) throw new Error(`service "${s.name}" is listed twice`);
    names.add(s.name);
    for (const call of s.calls) {
      if (!RPC_SUBJECT.test(call))
        throw new Error(`${s.name} calls "${call}": a call must be an RPC subject svc.<name>.rpc.<method>`);
    }
    for (const c of s.consumes) {
      if (!NAME.test(c.stream) || !NAME.test(c.durable))
        throw new Error(
          `${s.name} consumes "${c.stream}:${c.durable}": stream and durable must match ${NAME}`,
        );
      const key = `${c.stream}.${c.durable}`;
      const owner = durables.get(key);
      if (owner && owner !== s.name)
        throw new Error(`${s.name} and ${owner} both claim ${c.durable} on ${c.stream}`);
      durables.set(key, s.name);
    }
  }
}

function unique<T>(value: T, index: number, all: T[]): boolean {
  return all.indexOf(value) === index;
}
