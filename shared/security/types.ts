/** The shapes and names shared by the NATS permission generator (nats-auth.ts, roles.ts). */
import type { StreamReader } from "./jetstream-access.ts";

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
   * Names of the tasks it works (`report.monthly`): it pulls them from its
   * queue `TASKS_<NAME>` and publishes their results to the requesters that
   * declare them in `submits`.
   */
  works?: string[];
  /**
   * Tasks it submits, by owner and name: it publishes them on
   * `tasks.<owner>.<name>` and pulls their results from its queue `RESULTS_<NAME>`.
   */
  submits?: TaskAccess[];
  /** NATS KV buckets whose keys it reads and writes (made by the provisioner): `accounts_login_failures`. */
  kvBuckets?: string[];
  /**
   * Lets it subscribe to `_INBOX.>` instead of only `_INBOX.<name>.>`: for
   * clients that cannot set an inbox prefix. Such a client can read every
   * reply on the server, so use it for trusted tools only.
   */
  sharedInbox?: boolean;
  /**
   * Lets it create and update its own stream and durables. Off for the kit's
   * services, whose streams and durables the provisioner makes before they
   * start; foreign services added with `runnerly creds add` provision their own.
   */
  selfProvision?: boolean;
};

/** A task as far as permissions go: its owner and its name (`{ service: "stats", name: "report.monthly" }`). */
export type TaskAccess = { service: string; name: string };

/** nats-server permissions of one user (its config syntax). */
export type NatsPermissions = {
  publish: { allow: string[]; deny?: string[] };
  subscribe: { allow: string[]; deny?: string[] };
  /** May answer requests it received (once each), whatever their reply subject. */
  allow_responses?: boolean;
};

export type NatsUser = {
  user: string;
  role: "service" | "pull" | "edge" | "operator" | "provisioner";
  permissions: NatsPermissions;
  /** A `pull` user's service: it shares that service's password and creds file (`NATS_PULL_USER` in it). */
  of?: string;
};

/** What the edge needs besides `svc.*.http`, `$SRV` and announcements. */
export type EdgeAccess = {
  /** RPC subjects it calls (default: the accounts JWKS, `svc.accounts.rpc.jwks`). */
  calls?: string[];
  /** NATS KV buckets it keeps shared state in (default: `edge_rate_limits`, for rate limits). */
  kvBuckets?: string[];
  /** NATS KV buckets it only reads and watches (default: `revoked_sessions`, the ended sessions). */
  watches?: string[];
};

export type NatsUsersOptions = { edge?: EdgeAccess };

/** The users that are not services; no service may take their names. */
export const EDGE_USER = "edge";
export const OPERATOR_USER = "operator";
/** Creates and updates the services' streams and durables before they start (`runnerly provision`). */
export const PROVISIONER_USER = "provisioner";

/**
 * The user a service pulls its JetStream messages with (events it consumes,
 * tasks it works, results of tasks it submitted): `<service>.pull`, which no
 * service can be called (a name is one subject token).
 *
 * @example
 * pullUser("stats"); // "stats.pull"
 */
export function pullUser(service: string): string {
  return `${service}.pull`;
}

/** Names of services, streams, durables and KV buckets: one subject token. */
export const NAME = /^[A-Za-z0-9_-]+$/;
/** A task's name: dotted lower-case words, so `tasks.<owner>.<name>` is a literal subject. */
export const TASK_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/;
/** What a caller may declare: a literal RPC subject `svc.<name>.rpc.<method>`. */
export const RPC_SUBJECT = /^svc\.[A-Za-z0-9_-]+\.rpc\.[A-Za-z0-9_-]+$/;
