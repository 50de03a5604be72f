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
import { announceSubject, streamInboxPrefix } from "../protocol/index.ts";
import { taskStreamName } from "../tasks/define.ts";
import { consumerPermissions, kvBucketPermissions, type StreamReader } from "./jetstream-access.ts";
import { edgePermissions, operatorPermissions, provisionerPermissions } from "./roles.ts";
import { taskQueuesOf, taskSubjectsOf } from "./task-access.ts";
import {
  EDGE_USER,
  NAME,
  type NatsPermissions,
  type NatsUser,
  type NatsUsersOptions,
  OPERATOR_USER,
  PROVISIONER_USER,
  pullUser,
  RPC_SUBJECT,
  type ServiceAccess,
  TASK_NAME,
} from "./types.ts";

const SRV_VERBS = ["PING", "INFO", "STATS"] as const;

/**
 * Every user of a mesh: the services (sorted by name), then the edge and the operator.
 * Throws on a bad name, a reserved name, a duplicate, a call that is not an
 * RPC subject, a task name that is not dotted lower-case words, or one durable
 * claimed by two services.
 *
 * @example
 * const users = natsUsers([{ name: "plans", events: false, consumes: [], calls: ["svc.stats.rpc.weeklyTotals"] }]);
 */
export function natsUsers(services: ServiceAccess[], options: NatsUsersOptions = {}): NatsUser[] {
  checkServices(services);
  const sorted = [...services].sort((a, b) => a.name.localeCompare(b.name));
  return [
    ...sorted.flatMap((s): NatsUser[] => [
      { user: s.name, role: "service", permissions: servicePermissions(s, sorted) },
      ...(pulls(s)
        ? [{ user: pullUser(s.name), role: "pull" as const, permissions: pullPermissions(s), of: s.name }]
        : []),
    ]),
    { user: EDGE_USER, role: "edge", permissions: edgePermissions(options.edge) },
    { user: OPERATOR_USER, role: "operator", permissions: operatorPermissions(allDurables(sorted)) },
    { user: PROVISIONER_USER, role: "provisioner", permissions: provisionerOf(sorted) },
  ];
}

/**
 * A service may subscribe only to its own subjects, its ADR-32 `$SRV` subjects
 * and its own reply inbox; it may publish only its events, its announcements, the
 * RPCs it declared, the tasks it submits, the results of tasks it works to the
 * services that submit them (read from `services`, every service of the mesh),
 * replies to requests it received, and the JetStream API of its own streams
 * and its own durables (its event stream, its task and result queues, the
 * durables it consumes): checking them, pulling and acking, reading a stream
 * it consumes for a rebuild. Creating or changing a stream or a durable is the
 * provisioner's (unless `selfProvision`): a consumer's configuration may name
 * any subject to deliver to, and a stream's any subjects to capture.
 *
 * @example
 * servicePermissions(plans).publish.allow; // ["mesh.announce.plans", "svc.stats.rpc.weeklyTotals"]
 */
export function servicePermissions(s: ServiceAccess, services: ServiceAccess[] = [s]): NatsPermissions {
  const stream = streamName(s.name);
  const buckets = s.kvBuckets ?? [];
  const queues = taskQueuesOf(s);
  const jetstream = s.events || s.consumes.length > 0 || buckets.length > 0 || queues.length > 0;
  // Its own stream: checked at start (INFO); created and updated by the provisioner, or by itself when self-provisioning.
  const streamVerbs = s.selfProvision ? ["INFO", "CREATE", "UPDATE"] : ["INFO"];
  return {
    publish: {
      allow: [
        // Its own announce subject only: an announcement speaks for the service it names.
        announceSubject(s.name),
        ...s.calls,
        ...(s.events ? [`events.${s.name}.>`] : []),
        ...taskSubjectsOf(s, services),
        // The later messages of a streamed reply to the edge (server-sent events), only in streams addressed to it.
        `${streamInboxPrefix(`_INBOX.${EDGE_USER}`, `svc.${s.name}.http`)}.>`,
        // jetstreamManager() asks for the account's JetStream info before anything else.
        ...(jetstream ? ["$JS.API.INFO"] : []),
        ...(s.events ? streamVerbs.map((verb) => `$JS.API.STREAM.${verb}.${stream}`) : []),
        ...s.consumes.flatMap((c) => consumerPermissions(c, s.selfProvision === true)),
        // Its task and result queues: the stream's info (checked at start, read for the queue's depth) and its durable.
        ...queues.flatMap((q) => [
          ...streamVerbs.map((verb) => `$JS.API.STREAM.${verb}.${q.stream}`),
          ...consumerPermissions(q, s.selfProvision === true),
        ]),
        // The age of the oldest task waiting in its own queue, for $SRV.STATS (a read-only message get).
        ...(s.works?.length ? [`$JS.API.STREAM.MSG.GET.${taskStreamName(s.name)}`] : []),
        ...buckets.flatMap((b) => kvBucketPermissions(b, s.selfProvision === true)),
      ].filter(unique),
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

/** True when the service pulls JetStream messages: events it consumes, tasks it works, results it awaits. */
function pulls(s: ServiceAccess): boolean {
  return s.consumes.length > 0 || taskQueuesOf(s).length > 0;
}

/**
 * A service's second user, for the connection it pulls JetStream messages on
 * (`NATS_PULL_USER`, the service's password): checking its durables (and, when
 * self-provisioning, making them), pulling, acking, reading a stream for a
 * rebuild, and its own inbox. Not `allow_responses`: nats-server keeps, per
 * connection of such a user, an entry for every message delivered with a
 * reply subject until it is answered or two minutes pass, and walks them all on
 * each delivery once there are more than 4,096. A delivery's reply subject is
 * its ack subject, which is granted outright, so those entries are never
 * answered: on the connection that also serves requests, each event consumed
 * cost nats-server a walk of every event of the last two minutes
 * (BENCHMARKS.md). Kept apart, the service's own connection holds answered
 * requests only, and this one has no such map.
 *
 * @example
 * pullPermissions(stats).subscribe.allow; // ["_INBOX.stats.pull.>"]
 */
export function pullPermissions(s: ServiceAccess): NatsPermissions {
  const self = s.selfProvision === true;
  const streamVerbs = self ? ["INFO", "CREATE", "UPDATE"] : ["INFO"];
  return {
    publish: {
      allow: [
        "$JS.API.INFO",
        ...s.consumes.flatMap((c) => consumerPermissions(c, self)),
        ...taskQueuesOf(s).flatMap((q) => [
          ...streamVerbs.map((verb) => `$JS.API.STREAM.${verb}.${q.stream}`),
          ...consumerPermissions(q, self),
        ]),
      ].filter(unique),
    },
    subscribe: { allow: [`_INBOX.${pullUser(s.name)}.>`] },
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

/** The streams, task queues, KV buckets and durables of the services that do not provision their own. */
function provisionerOf(services: ServiceAccess[]) {
  const provisioned = services.filter((s) => !s.selfProvision);
  const queues = provisioned.flatMap(taskQueuesOf);
  return provisionerPermissions(
    [
      ...provisioned.filter((s) => s.events).map((s) => streamName(s.name)),
      ...queues.map((q) => q.stream),
      ...provisioned.flatMap((s) => (s.kvBuckets ?? []).map((b) => `KV_${b}`)),
    ],
    [...provisioned.flatMap((s) => s.consumes), ...queues],
  );
}

/** Every durable a service pulls from: those it consumes events with, and its task and result queues'. */
function allDurables(services: ServiceAccess[]): StreamReader[] {
  return services.flatMap((s) => [...s.consumes, ...taskQueuesOf(s)]);
}

function checkServices(services: ServiceAccess[]): void {
  const names = new Set<string>();
  const durables = new Map<string, string>();
  for (const s of services) {
    if (!NAME.test(s.name)) throw new Error(`service name "${s.name}" must match ${NAME}`);
    if (s.name === EDGE_USER || s.name === OPERATOR_USER || s.name === PROVISIONER_USER)
      throw new Error(`"${s.name}" is reserved for the ${s.name} user; rename the service`);
    if (names.has(s.name)) throw new Error(`service "${s.name}" is listed twice`);
    names.add(s.name);
    for (const b of s.kvBuckets ?? []) {
      if (!NAME.test(b)) throw new Error(`${s.name} KV bucket "${b}" must match ${NAME}`);
    }
    for (const name of s.works ?? []) {
      if (!TASK_NAME.test(name))
        throw new Error(`${s.name} works task "${name}": a task name must match ${TASK_NAME}`);
    }
    for (const t of s.submits ?? []) {
      if (!NAME.test(t.service) || !TASK_NAME.test(t.name))
        throw new Error(
          `${s.name} submits task "${t.service}/${t.name}": its owner must match ${NAME}, its name ${TASK_NAME}`,
        );
    }
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
