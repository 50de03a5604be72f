/**
 * A service's NATS needs, read from its definition without starting it: its
 * name, whether it publishes events, the durables its consumers keep, the
 * RPC subjects it declared in `calls`, its KV buckets, and the tasks it works
 * and submits; and what the provisioner makes for a set of services.
 */
import { type ConsumerDefinition, consumerSource } from "../events/consumer.ts";
import type { MeshProvision } from "../events/provision.ts";
import type { RpcMethods } from "../rpc/index.ts";
import type { ServiceContext, ServiceDefinition } from "../service/index.ts";
import type { TaskDefinition } from "../tasks/define.ts";
import { resultQueue, taskQueue } from "../tasks/provision.ts";
import type { ServiceAccess, TaskAccess } from "./types.ts";

/**
 * Describes a service definition for `natsUsers`. Its `consumers` factory is
 * called with a context that throws when touched: a factory that needs the
 * running service to say which consumers it has cannot be described statically.
 *
 * @example
 * import { service } from "../../services/stats/service.ts";
 * describeService(service); // → { name: "stats", events: true, consumes: [{ stream: "EVENTS_RUNS", … }], calls: [] }
 */
export function describeService<S extends Record<string, unknown>, M extends RpcMethods>(
  def: ServiceDefinition<S, M>,
): ServiceAccess {
  const consumers = consumersOf(def);
  return {
    name: def.name,
    events: (def.events?.length ?? 0) > 0,
    consumes: consumers.map((c) => ({
      stream: consumerSource(c as never).stream,
      durable: c.name,
      rebuild: typeof c.reset === "function",
    })),
    calls: [...(def.calls ?? [])],
    ...(def.kvBuckets?.length ? { kvBuckets: def.kvBuckets.map((b) => b.name) } : {}),
    ...tasksOf(def),
  };
}

/** The names of the tasks it works and the tasks it submits, each once (versions share a subject). */
function tasksOf<S extends Record<string, unknown>, M extends RpcMethods>(
  def: ServiceDefinition<S, M>,
): Pick<ServiceAccess, "works" | "submits"> {
  const works = [...new Set((def.tasks?.works ?? []).map((t) => t.name))];
  const submits = new Map<string, TaskAccess>();
  for (const t of def.tasks?.submits ?? ([] as TaskDefinition[]))
    submits.set(`${t.service}/${t.name}`, { service: t.service, name: t.name });
  return {
    ...(works.length ? { works } : {}),
    ...(submits.size ? { submits: [...submits.values()] } : {}),
  };
}

/**
 * What the provisioner makes for these services: each producer's stream and
 * each consumer's durable, with the settings the services themselves would
 * use (`EVENTS_REPLICAS`, `EVENTS_ACK_WAIT_MS` from `env`, as a service reads them).
 *
 * @example
 * const plan = meshProvision([runs, stats], process.env);
 * await provisionMesh(await jetstreamManager(nc), plan);
 */
export function meshProvision(
  // biome-ignore lint/suspicious/noExplicitAny: any service definition, whatever its schema and RPC methods
  defs: ServiceDefinition<any, any>[],
  env: Record<string, string | undefined> = {},
): MeshProvision {
  const replicas = Number(env.EVENTS_REPLICAS ?? 1);
  const ackWaitMs = Number(env.EVENTS_ACK_WAIT_MS ?? 30_000);
  const queue = (service: string) => ({
    service,
    replicas,
    ackWaitMs: Number(env.TASKS_ACK_WAIT_MS ?? 30_000),
  });
  return {
    streams: defs.filter((d) => (d.events?.length ?? 0) > 0).map((d) => ({ service: d.name, replicas })),
    durables: defs.flatMap((d) => consumersOf(d).map((c) => ({ ackWaitMs, ...c }))),
    queues: defs.flatMap((d) => [
      ...(d.tasks?.works?.length ? [taskQueue(queue(d.name))] : []),
      ...(d.tasks?.submits?.length ? [resultQueue(queue(d.name))] : []),
    ]),
  };
}

function consumersOf<S extends Record<string, unknown>, M extends RpcMethods>(
  def: ServiceDefinition<S, M>,
): ConsumerDefinition[] {
  return (def.consumers?.(untouchableContext(def.name)) ?? []) as ConsumerDefinition[];
}

function untouchableContext<S extends Record<string, unknown>>(name: string): ServiceContext<S> {
  return new Proxy({} as ServiceContext<S>, {
    get(_target, key) {
      throw new Error(
        `${name}: its consumers factory reads ctx.${String(key)}, so its consumers cannot be listed ` +
          "without starting it; return the consumer definitions without using ctx",
      );
    },
  });
}
