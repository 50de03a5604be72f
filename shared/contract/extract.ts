/**
 * Reads a service's contract from its definition: the OpenAPI document its
 * Hono app serves, its RPC methods', events' and worked tasks' zod schemas as
 * JSON Schema, the event versions its consumers accept and the tasks it submits. The app is built the way
 * `startService` builds it (`buildApp`), against a real SQLite file in a
 * temporary folder, and asked for `<prefix>/openapi.json` with `app.request`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { z } from "zod";
import { loadConfig, serviceConfigSchema } from "../config/index.ts";
import { defaultDatabaseUrl, openStore, type Store } from "../db/index.ts";
import { type ConsumerDefinition, createOutbox } from "../events/index.ts";
import { silentLogger } from "../log/index.ts";
import type { RpcMethods } from "../rpc/index.ts";
import type { ServiceContext, ServiceDefinition } from "../service/index.ts";
import { buildApp, openApiPath } from "../service/router.ts";
import { createTaskClient } from "../tasks/client.ts";
import type { TaskDefinition } from "../tasks/define.ts";
import type { Contract, JsonSchema } from "./types.ts";

// biome-ignore lint/suspicious/noExplicitAny: any service definition, whatever its schema and RPC methods
export type AnyServiceDefinition = ServiceDefinition<any, any>;

/** A service's contract together with its live consumer and task definitions (for the consumer check). */
export type InspectedService = {
  contract: Contract;
  consumers: ConsumerDefinition[];
  /** The task definitions it works and submits, with their zod schemas. */
  tasks: { works: TaskDefinition[]; submits: TaskDefinition[] };
};

/**
 * Extracts a service's contract.
 *
 * @example
 * import { service } from "../../services/runs/service.ts";
 * const contract = await extractContract(service);
 * contract.openapi.paths; // { "/api/runs/runs": { get: …, post: … }, … }
 */
export async function extractContract<S extends Record<string, unknown>, M extends RpcMethods>(
  def: ServiceDefinition<S, M>,
): Promise<Contract> {
  return (await inspectService(def)).contract;
}

/** `extractContract`, also returning the consumer definitions the service runs. */
export async function inspectService<S extends Record<string, unknown>, M extends RpcMethods>(
  def: ServiceDefinition<S, M>,
): Promise<InspectedService> {
  const dir = mkdtempSync(join(tmpdir(), `runnerly-contract-${def.name}-`));
  let store: Store<S> | null = null;
  try {
    store = await openStore({
      url: defaultDatabaseUrl(dir, def.name),
      schema: def.schema,
      migrationsFolder: def.migrationsFolder,
      logger: silentLogger,
    });
    const ctx: ServiceContext<S> = {
      name: def.name,
      instanceId: "contract",
      config: loadConfig(serviceConfigSchema, { DATA_DIR: dir, LOG_LEVEL: "silent" }),
      logger: silentLogger,
      nc: withoutNats(def.name),
      store,
      outbox: createOutbox(store as Store<Record<string, unknown>>, () => {}),
      tasks: createTaskClient({
        service: def.name,
        store: store as Store<Record<string, unknown>>,
        callbacks: () => new Set(),
        onCommitted: () => {},
        onDeadline: () => {},
      }),
    };
    const consumers = (def.consumers?.(ctx) ?? []) as ConsumerDefinition[];
    const contract: Contract = {
      service: def.name,
      version: def.version,
      openapi: await openApiDocument(def, ctx),
      rpc: rpcSchemas(def),
      events: (def.events ?? []).map((e) => ({
        type: e.type,
        version: e.version,
        schema: jsonSchema(e.schema, "output"),
      })),
      consumes: consumers.map((c) => ({
        consumer: c.name,
        events: c.events.map((e) => ({ service: e.service, type: e.type, version: e.version })),
      })),
      ...tasksOf(def),
      ...(def.slo ? { slo: def.slo } : {}),
    };
    const tasks = { works: def.tasks?.works ?? [], submits: def.tasks?.submits ?? [] };
    return { contract, consumers, tasks };
  } finally {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function openApiDocument<S extends Record<string, unknown>, M extends RpcMethods>(
  def: ServiceDefinition<S, M>,
  ctx: ServiceContext<S>,
): Promise<Record<string, unknown>> {
  const prefix = def.prefix ?? `/api/${def.name}`;
  const app = buildApp({
    name: def.name,
    version: def.version,
    prefix,
    instanceId: ctx.instanceId,
    logger: silentLogger,
    description: def.description,
    routes: def.routes?.(ctx),
  });
  const res = await app.request(openApiPath(prefix));
  if (!res.ok) throw new Error(`${def.name}: ${openApiPath(prefix)} answered ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

function rpcSchemas<S extends Record<string, unknown>, M extends RpcMethods>(
  def: ServiceDefinition<S, M>,
): Contract["rpc"] {
  const out: Contract["rpc"] = {};
  for (const [name, method] of Object.entries(def.rpc?.contract.methods ?? {})) {
    // What a caller may send is the input side; what it gets back, the output side.
    out[name] = { input: jsonSchema(method.input, "input"), output: jsonSchema(method.output, "output") };
  }
  return out;
}

/**
 * The tasks part: each worked task's input and output schemas, each submitted
 * task's owner, name and version, sorted so that the snapshot's text does not
 * depend on the order of declaration; nothing for a service without tasks.
 */
function tasksOf<S extends Record<string, unknown>, M extends RpcMethods>(
  def: ServiceDefinition<S, M>,
): Pick<Contract, "tasks"> {
  const works = def.tasks?.works ?? [];
  const submits = def.tasks?.submits ?? [];
  if (works.length === 0 && submits.length === 0) return {};
  const order = (a: TaskDefinition, b: TaskDefinition) =>
    a.service.localeCompare(b.service) || a.name.localeCompare(b.name) || a.version - b.version;
  const sorted = (list: TaskDefinition[]) => [...list].sort(order);
  return {
    tasks: {
      works: sorted(works).map((t) => ({
        name: t.name,
        version: t.version,
        input: jsonSchema(t.input, "input"),
        output: jsonSchema(t.output, "output"),
      })),
      submits: sorted(submits).map((t) => ({ service: t.service, name: t.name, version: t.version })),
    },
  };
}

/** JSON Schema of one side of a zod schema; what JSON can't say (a transform) is "any value". */
export function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
}

/**
 * The NATS connection of the extraction context: there is none. Building
 * routes must not talk to NATS (capturing the connection, as an RPC client
 * does, is fine); a factory that does gets this error instead of a hang.
 */
function withoutNats(service: string): NatsConnection {
  return new Proxy({} as NatsConnection, {
    get(_target, key) {
      throw new Error(
        `${service}: its routes or consumers used ctx.nc.${String(key)} while being built; ` +
          "a contract is read without NATS, so use the connection only when handling a request",
      );
    },
  });
}
