/**
 * Provisioning of the JetStream side of a mesh: each producer's stream
 * `EVENTS_<NAME>` and each consumer's durable. On a secured NATS (the dev
 * stack's generated users) services may not create or change either; a
 * privileged provisioner does it before they start (`provisionMesh`, run by
 * `npm run dev` and `runnerly provision`), and a service only checks that what
 * it needs is there. Without such permissions a service provisions its own,
 * as before: the same calls create what is missing and update what differs.
 */
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamManager,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import type { Logger } from "../log/logger.ts";
import { type ConsumerDefinition, consumerSource } from "./consumer.ts";
import { streamName } from "./define.ts";

/** Two minutes: the relay re-publishes an unacknowledged event well within this. */
export const DUPLICATE_WINDOW_MS = 120_000;

export type StreamOptions = {
  service: string;
  replicas: number;
  maxBytes?: number;
  /** Told when the stream differs from what this code wants and may not be changed from here. */
  logger?: Logger;
};

/** What an `ensure…` call found and did. */
export type Provisioned = "created" | "updated" | "current" | "stale";

/** A stream or durable that is missing and that this connection may not create. */
export class NotProvisionedError extends Error {}

/**
 * The stream of a producing service: `events.<name>.>`, file storage,
 * replicas from config, a duplicate window longer than the relay's retry
 * horizon, `discard: new`, no delete or purge.
 *
 * @example
 * eventStreamConfig({ service: "runs", replicas: 3 }).name; // "EVENTS_RUNS"
 */
export function eventStreamConfig(options: StreamOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: streamName(options.service),
    subjects: [`events.${options.service}.>`],
    storage: StorageType.File,
    num_replicas: options.replicas,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    discard: DiscardPolicy.New,
    deny_delete: true,
    deny_purge: true,
    max_bytes: options.maxBytes ?? -1,
  };
}

/**
 * Makes sure the stream exists with this configuration: nothing to do when it
 * is current; created when missing, updated when it differs (when this
 * connection may). A stream that differs and may not be changed here is left
 * as it is ("stale", with a warning); a missing one that may not be created
 * throws `NotProvisionedError` saying what to run.
 *
 * @example
 * await ensureEventStream(await jetstreamManager(nc), { service: "runs", replicas: 1 });
 */
export async function ensureEventStream(jsm: JetStreamManager, options: StreamOptions): Promise<Provisioned> {
  return ensureStream(jsm, eventStreamConfig(options), options.logger);
}

/**
 * `ensureEventStream` for any stream configuration (the kit's task and result
 * streams use it too).
 *
 * @example
 * await ensureStream(jsm, taskStreamConfig({ service: "stats", replicas: 1 }), logger);
 */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
  logger?: Logger,
): Promise<Provisioned> {
  const name = config.name;
  const existing = await jsm.streams.info(name).catch((err: unknown) => {
    if (isNotFound(err)) return null;
    throw err;
  });
  if (!existing) {
    try {
      await jsm.streams.add(config);
      return "created";
    } catch (err) {
      if (isDenied(err)) throw notProvisioned(`stream ${name}`);
      // Another instance created it at the same moment: fall through to the update.
      if (!/already in use|exists/i.test(String(err))) throw err;
    }
  } else if (streamIsCurrent(existing.config, config)) {
    return "current";
  }
  const { num_replicas: _r, storage: _s, retention: _t, ...mutable } = config;
  try {
    await jsm.streams.update(name, mutable);
    return "updated";
  } catch (err) {
    if (!isDenied(err)) throw err;
    logger?.warn(
      { stream: name },
      `stream ${name} differs from this version's settings and this service may not change it; ${RUN_PROVISION}`,
    );
    return "stale";
  }
}

/**
 * The durable consumer a kit consumer pulls from: explicit acks, from the
 * start of the stream, one more delivery than the consumer's own retries (so
 * its dead-lettering on the last attempt always runs).
 *
 * @example
 * durableConfig(updateTotals).durable_name; // "stats-update-totals"
 */
export function durableConfig(def: ConsumerDefinition): Partial<ConsumerConfig> & { durable_name: string } {
  const { subjects } = consumerSource(def);
  return {
    durable_name: def.name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_deliver: (def.maxDeliver ?? 5) + 1,
    ack_wait: nanos(def.ackWaitMs ?? 30_000),
    // Bounds the queue of delivered-but-unapplied messages a slow consumer can hold.
    max_ack_pending: 512,
    // One subject filters exactly; several use the producer's wildcard (servers
    // before 2.10 have no `filter_subjects`) and other types are skipped on arrival.
    filter_subject: subjects.length === 1 ? subjects[0] : `events.${def.events[0]?.service}.>`,
  };
}

/**
 * Makes sure the durable exists with this configuration, like `ensureEventStream`.
 *
 * @example
 * await ensureDurable(jsm, updateTotals, logger);
 */
export async function ensureDurable(
  jsm: JetStreamManager,
  def: ConsumerDefinition,
  logger?: Logger,
): Promise<Provisioned> {
  return ensureConsumer(jsm, consumerSource(def).stream, durableConfig(def), logger);
}

/**
 * `ensureDurable` for any durable configuration on `stream` (the kit's task
 * and result durables use it too).
 *
 * @example
 * await ensureConsumer(jsm, "TASKS_STATS", taskDurableConfig("stats"), logger);
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
  logger?: Logger,
): Promise<Provisioned> {
  const name = config.durable_name;
  const existing = await jsm.consumers.info(stream, name).catch((err: unknown) => {
    if (isNotFound(err) && !/stream not found/i.test(String(err))) return null;
    throw err;
  });
  if (existing && durableIsCurrent(existing.config, config)) return "current";
  try {
    if (existing) {
      await jsm.consumers.update(stream, name, config);
      return "updated";
    }
    await jsm.consumers.add(stream, config);
    return "created";
  } catch (err) {
    if (!isDenied(err)) throw err;
    if (!existing) throw notProvisioned(`durable ${name} on ${stream}`);
    logger?.warn(
      { consumer: name, stream },
      `durable ${name} differs from this version's settings and this service may not change it; ${RUN_PROVISION}`,
    );
    return "stale";
  }
}

/** What a mesh needs provisioned: the producers' streams and every consumer's durable. */
export type MeshProvision = {
  streams: StreamOptions[];
  durables: ConsumerDefinition[];
  /** Work-queue streams with their one durable each (the kit's task and result queues). */
  queues?: {
    stream: Partial<StreamConfig> & { name: string };
    durable: Partial<ConsumerConfig> & { durable_name: string };
  }[];
};

/**
 * Provisions every stream, then every durable (a durable needs its stream).
 * One that fails (its producer's stream is missing, say) does not stop the
 * others: `report` hears each outcome, and the failures are returned.
 *
 * @example
 * const failed = await provisionMesh(jsm, plan, (what, outcome) => console.log(`${what}: ${outcome}`));
 */
export async function provisionMesh(
  jsm: JetStreamManager,
  mesh: MeshProvision,
  report: (what: string, outcome: Provisioned | "failed", detail?: string) => void = () => {},
): Promise<string[]> {
  const failed: string[] = [];
  const attempt = async (what: string, run: () => Promise<Provisioned>) => {
    try {
      report(what, await run());
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      report(what, "failed", detail);
      failed.push(`${what}: ${detail}`);
    }
  };
  for (const s of mesh.streams)
    await attempt(`stream ${streamName(s.service)}`, () => ensureEventStream(jsm, s));
  for (const d of mesh.durables) {
    await attempt(`durable ${consumerSource(d).stream}/${d.name}`, () => ensureDurable(jsm, d));
  }
  for (const q of mesh.queues ?? []) {
    await attempt(`stream ${q.stream.name}`, () => ensureStream(jsm, q.stream));
    await attempt(`durable ${q.stream.name}/${q.durable.durable_name}`, () =>
      ensureConsumer(jsm, q.stream.name, q.durable),
    );
  }
  return failed;
}

/**
 * Runs a JetStream management call again while JetStream cannot answer yet —
 * a request that times out, or "temporarily unavailable" — as on a cluster
 * that is still electing its meta leader or has just lost a node. Other
 * errors (denied, invalid) are thrown at once; after `withinMs` the last
 * timeout is thrown with what to check.
 *
 * @example
 * await untilJetStreamAnswers(() => ensureEventStream(jsm, options), { what: "stream EVENTS_RUNS", logger });
 */
export async function untilJetStreamAnswers<T>(
  run: () => Promise<T>,
  options: { what: string; logger?: Logger; withinMs?: number; onRetry?: (err: unknown) => void },
): Promise<T> {
  const until = Date.now() + (options.withinMs ?? 30_000);
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      if (Date.now() >= until) {
        throw new Error(
          `${options.what}: JetStream did not answer (${String(err)}); check that every NATS node runs with JetStream and that the cluster has a leader (nats server report jetstream)`,
          { cause: err },
        );
      }
      options.onRetry?.(err);
      options.logger?.warn(
        { err: String(err), attempt },
        `${options.what}: JetStream is not answering yet; trying again`,
      );
      await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** Math.min(attempt, 5))));
    }
  }
}

/** JetStream is there but cannot answer now (no leader yet, a node just lost). */
function isUnavailable(err: unknown): boolean {
  return (
    (err instanceof Error && err.name === "TimeoutError") ||
    /timeout|temporarily unavailable|no suitable peers/i.test(String(err))
  );
}

const RUN_PROVISION =
  "provision it with the provisioner's credentials (npm run dev does; elsewhere `runnerly provision`)";

function notProvisioned(what: string): NotProvisionedError {
  return new NotProvisionedError(
    `${what} does not exist and this service may not create it; ${RUN_PROVISION}`,
  );
}

function isNotFound(err: unknown): boolean {
  return /not found/i.test(String(err));
}

/** A publish the server refused (permissions), or a request nobody could answer because of it. */
function isDenied(err: unknown): boolean {
  return /permission|authorization/i.test(String(err));
}

function streamIsCurrent(have: StreamConfig, want: Partial<StreamConfig>): boolean {
  return (
    sameList(have.subjects, want.subjects) &&
    have.duplicate_window === want.duplicate_window &&
    have.discard === want.discard &&
    have.deny_delete === want.deny_delete &&
    have.deny_purge === want.deny_purge &&
    have.max_bytes === want.max_bytes
  );
}

function durableIsCurrent(have: ConsumerConfig, want: Partial<ConsumerConfig>): boolean {
  return (
    have.ack_policy === want.ack_policy &&
    have.deliver_policy === want.deliver_policy &&
    have.max_deliver === want.max_deliver &&
    have.ack_wait === want.ack_wait &&
    have.max_ack_pending === want.max_ack_pending &&
    (have.filter_subject ?? "") === (want.filter_subject ?? "") &&
    !have.deliver_subject
  );
}

function sameList(a: string[] | undefined, b: string[] | undefined): boolean {
  return JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...(b ?? [])].sort());
}
