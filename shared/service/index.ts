/**
 * `defineService` describes a service; `startService` runs it: opens its store
 * and applies migrations, connects to NATS, registers with the NATS Services
 * API (ADR-32) with an `http` endpoint and its RPC endpoints, serves its Hono
 * app on its own port too, announces itself, and shuts down gracefully.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { type Service, Svcm } from "@nats-io/services";
import type { Hono } from "hono";
import { loadConfig, type ServiceConfig, serviceConfigSchema } from "../config/index.ts";
import { defaultDatabaseUrl, openStore, type Store } from "../db/index.ts";
import {
  type ConsumerDefinition,
  createOutbox,
  EventConsumer,
  type EventDefinition,
  ensureConsumer,
  ensureEventStream,
  ensureStream,
  type Outbox,
  OutboxRelay,
  untilJetStreamAnswers,
} from "../events/index.ts";
import { createLogger, type Logger } from "../log/index.ts";
import {
  createServiceMetrics,
  readTaskQueue,
  type ServiceMetrics,
  type ServiceStatsData,
  type TaskQueueFigures,
} from "../metrics/index.ts";
import { connectNats, natsOptionsFrom } from "../nats/index.ts";
import {
  type Announcement,
  announceSubject,
  HTTP_ENDPOINT,
  HTTP_INSTANCE_ENDPOINT,
  HTTP_PREFIX_METADATA,
  HTTP_PUBLIC_METADATA,
  httpSubject,
  instanceSubject,
  levelsMetadata,
  majorOf,
  rpcSubject,
  type ServiceLevels,
  versionedEndpoint,
  versionedSubject,
} from "../protocol/index.ts";
import { type RpcContract, type RpcHandlers, type RpcMethods, serveRpcMessage } from "../rpc/index.ts";
import { createTaskClient, type TaskClient } from "../tasks/client.ts";
import type { TaskDefinition } from "../tasks/define.ts";
import { resultQueue, taskQueue } from "../tasks/provision.ts";
import { ResultRunner, type TaskCallback } from "../tasks/results.ts";
import { TASK_WORKER_DEFAULTS, type TaskHandler, TaskWorker } from "../tasks/worker.ts";
import { addAdminEndpoints } from "./admin.ts";
import { type HttpServer, serveDirectHttp } from "./bun-server.ts";
import type { MeshEnv } from "./context.ts";
import { type KvBucketDefinition, openKvBucket } from "./kv-buckets.ts";
import { serveHttpMessage } from "./nats-http.ts";
import { buildApp } from "./router.ts";
import { sheddingOptionsFromEnv } from "./shedding.ts";

type AnySchema = Record<string, unknown>;

/** What a service's adapters (routes, RPC handlers) are given. */
export type ServiceContext<S extends AnySchema> = {
  name: string;
  instanceId: string;
  config: ServiceConfig;
  logger: Logger;
  nc: NatsConnection;
  store: Store<S>;
  /** Records events in the caller's write transaction (see `events` below). */
  outbox: Outbox;
  /** Submits tasks in the caller's write transaction and reads their status (see `tasks` below). */
  tasks: TaskClient;
};

/** The tasks a service works and the tasks it submits (docs/protocol.md §7). */
export type TasksDefinition<S extends AnySchema> = {
  /** Tasks of its contract it works, from its queue `TASKS_<NAME>` (its instances compete for them). */
  works?: TaskDefinition[];
  /** How it works each task of `works` (`defineTaskHandler`). */
  handlers?: (ctx: ServiceContext<S>) => TaskHandler<S>[];
  /** Tasks it submits (its own or others'): its NATS user may send them, and its results queue is provisioned. */
  submits?: TaskDefinition[];
  /**
   * Callbacks by name (`defineCallback`), each run once per result in a
   * transaction of its store. Named here so a restarted instance still
   * handles results of tasks submitted before.
   */
  callbacks?: (ctx: ServiceContext<S>) => Record<string, TaskCallback<S>>;
  /** Tasks one instance works at once (default 4, `TASK_WORKER_DEFAULTS`). */
  concurrency?: number;
  /**
   * How many tasks an instance pulls ahead, as a multiple of `concurrency`
   * (default 4, as Celery's `worker_prefetch_multiplier`): fewer pulls, and
   * more tasks to share each commit. A pulled task may wait `prefetch - 1`
   * handlers' time before it starts, and its TASKS_ACK_WAIT_MS runs
   * meanwhile; 1 pulls a task only for a free slot (handlers that take
   * seconds, or instances that should share a short burst evenly).
   */
  prefetch?: number;
};

export type ServiceDefinition<S extends AnySchema, M extends RpcMethods> = {
  /** Service name (ADR-32 name; `[A-Za-z0-9_-]+`). */
  name: string;
  /** Semantic version (ADR-32 version). */
  version: string;
  description?: string;
  /** HTTP prefix routed to this service by the edge; default `/api/<name>`. */
  prefix?: string;
  /**
   * Routes the edge lets through without a verified caller, relative to the
   * prefix: `["POST /login", "GET /users/*"]` (published as `http.public`).
   */
  publicRoutes?: string[];
  /** The drizzle schema and the drizzle-kit migrations folder. */
  schema: S;
  migrationsFolder: string;
  /** The service's routes, relative to its prefix. */
  routes?: (ctx: ServiceContext<S>) => Hono<MeshEnv>;
  /** RPC methods this service answers. */
  rpc?: { contract: RpcContract<M>; handlers: (ctx: ServiceContext<S>) => RpcHandlers<M> };
  /** Events this service publishes (its stream is provisioned and its outbox relayed). */
  events?: EventDefinition[];
  /**
   * NATS KV buckets its instances share (provisioned like its stream; its NATS
   * user may read and write their keys). Open one with `openKvBucket`.
   */
  kvBuckets?: KvBucketDefinition[];
  /**
   * What it promises (published as `slo.*` metadata): availability in percent,
   * p99 latency in ms, and the rate limit per caller the edge enforces.
   */
  slo?: ServiceLevels;
  /** RPC subjects this service calls (`svc.stats.rpc.weeklyTotals`): its NATS user may publish only these. */
  calls?: string[];
  /** Consumers of other services' events, each applying events exactly once. */
  consumers?: (ctx: ServiceContext<S>) => ConsumerDefinition<S>[];
  /** Background work started after registration and stopped before NATS drains. */
  background?: (ctx: ServiceContext<S>) => BackgroundTask[];
  /** Tasks it works and tasks it submits, with their callbacks. */
  tasks?: TasksDefinition<S>;
};

/** A long-running task of a service (a worker loop, a scheduler). */
export type BackgroundTask = { start(): void; stop(): Promise<void> };

/**
 * Declares a service (its `main.ts` then only calls `runService`).
 *
 * @example
 * export const service = defineService({ name: "runs", version: "1.0.0", schema, migrationsFolder, routes });
 */
export function defineService<S extends AnySchema, M extends RpcMethods = RpcMethods>(
  definition: ServiceDefinition<S, M>,
): ServiceDefinition<S, M> {
  if (!/^[A-Za-z0-9_-]+$/.test(definition.name)) throw new Error(`Invalid service name "${definition.name}"`);
  for (const task of definition.tasks?.works ?? []) {
    if (task.service !== definition.name) {
      throw new Error(
        `${definition.name} cannot work ${task.service}/${task.name}: a service works only its own tasks`,
      );
    }
  }
  return definition;
}

export type StartOptions = {
  /** Environment to read the configuration from (default `process.env`). */
  env?: Record<string, string | undefined>;
  logger?: Logger;
};

export type RunningService<S extends AnySchema> = ServiceContext<S> & {
  /** The service's own HTTP URL. */
  url: string;
  app: Hono<MeshEnv>;
  service: Service;
  relay: OutboxRelay | null;
  consumers: EventConsumer[];
  /** Works the service's tasks (null when it works none). */
  taskWorker: TaskWorker | null;
  /** Takes the results of the tasks it submitted and runs their callbacks (null when it submits none). */
  taskResults: ResultRunner | null;
  /** The instance's Prometheus metrics (served on `GET /metrics` of its own port). */
  metrics: ServiceMetrics;
  /** Stops taking requests, finishes in-flight ones, drains NATS, closes the store. */
  stop(): Promise<void>;
};

/**
 * Starts one instance of a service.
 *
 * @example
 * const runs = await startService(service, { env: { NATS_URL: nats.url, DATA_DIR: dir } });
 * await runs.stop();
 */
export async function startService<S extends AnySchema, M extends RpcMethods>(
  def: ServiceDefinition<S, M>,
  options: StartOptions = {},
): Promise<RunningService<S>> {
  const config = loadConfig(serviceConfigSchema, options.env ?? process.env);
  const prefix = def.prefix ?? `/api/${def.name}`;
  let logger = options.logger ?? createLogger(def.name, config.LOG_LEVEL);
  const works = def.tasks?.works ?? [];
  const submits = def.tasks?.submits ?? [];
  const connectionName = `${def.name}${config.SERVICE_INSTANCE ? `-${config.SERVICE_INSTANCE}` : ""}`;
  // Its JetStream messages (events it consumes, tasks it works, results it awaits) come on a
  // connection of their own under NATS_PULL_USER: the user that serves requests may answer
  // each once (allow_responses), and nats-server's bookkeeping of that grows with every
  // message delivered to the connection (security/nats-auth.ts, pullPermissions).
  const pullUser =
    config.NATS_PULL_USER && (def.consumers || works.length > 0 || submits.length > 0)
      ? config.NATS_PULL_USER
      : null;
  // The store first: a store that cannot open stops the start at once, even while NATS is
  // unreachable (connecting waits for it).
  const store = await openStore({
    url: config.DATABASE_URL ?? defaultDatabaseUrl(config.DATA_DIR, def.name),
    authToken: config.DATABASE_AUTH_TOKEN,
    driver: config.DATABASE_DRIVER,
    schema: def.schema,
    migrationsFolder: def.migrationsFolder,
    logger,
  });
  // Then both connections at once: each mostly waits on the server.
  const [connected, pullConnected] = await Promise.allSettled([
    connectNats(natsOptionsFrom(config, connectionName, logger)),
    pullUser === null
      ? null
      : connectNats({
          ...natsOptionsFrom(config, `${connectionName}-pull`, logger),
          user: pullUser,
          inboxPrefix: `_INBOX.${pullUser}`,
        }).catch((err: unknown) => {
          const why = err instanceof Error ? err.message : String(err);
          throw new Error(
            `NATS_PULL_USER ${pullUser}: the connection to pull JetStream messages failed: ${why}`,
            { cause: err },
          );
        }),
  ]);
  if (connected.status === "rejected" || pullConnected.status === "rejected") {
    // What did open is closed; the main connection's failure is the one reported when both failed.
    for (const c of [connected, pullConnected])
      if (c.status === "fulfilled") await c.value?.close().catch(() => {});
    await store.close().catch(() => {});
    throw connected.status === "rejected"
      ? connected.reason
      : (pullConnected as PromiseRejectedResult).reason;
  }
  const nc = connected.value;
  const pullNc = pullConnected.value ?? nc;
  // A start that fails part-way leaves nothing behind: what it started is undone, its NATS
  // subscriptions go with the connection.
  const undo: (() => unknown)[] = [];
  if (pullNc !== nc) undo.push(() => pullNc.close());
  try {
    // Its stream must be there before it takes requests that emit events (made here, or by the provisioner).
    if (def.events?.length) {
      // A JetStream cluster still electing its leader times out for a while: wait for it, bounded.
      await untilJetStreamAnswers(
        async () =>
          ensureEventStream(await jetstreamManager(nc), {
            service: def.name,
            replicas: config.EVENTS_REPLICAS,
            logger,
          }),
        { what: `stream of ${def.name}`, logger },
      );
    }
    const queueOptions = {
      service: def.name,
      replicas: config.EVENTS_REPLICAS,
      ackWaitMs: config.TASKS_ACK_WAIT_MS,
    };
    // Its task and result queues, like its stream, are there before it takes requests that submit.
    for (const queue of [
      ...(works.length > 0 ? [taskQueue(queueOptions)] : []),
      ...(submits.length > 0 ? [resultQueue(queueOptions)] : []),
    ]) {
      await untilJetStreamAnswers(
        async () => {
          const jsm = await jetstreamManager(nc);
          await ensureStream(jsm, queue.stream, logger);
          await ensureConsumer(jsm, queue.stream.name, queue.durable, logger);
        },
        { what: `task queue ${queue.stream.name}`, logger },
      );
    }
    for (const bucket of def.kvBuckets ?? []) {
      await untilJetStreamAnswers(() => openKvBucket(nc, bucket, config.EVENTS_REPLICAS), {
        what: `KV bucket ${bucket.name}`,
        logger,
      });
    }
    // Set once the instance runs; until then `$SRV.STATS` carries no event figures.
    let figures: (() => Promise<ServiceStatsData>) | null = null;
    const service = await new Svcm(nc).add({
      name: def.name,
      version: def.version,
      description: def.description ?? "",
      metadata: {
        [HTTP_PREFIX_METADATA]: prefix,
        // Health and the OpenAPI document are always public; then what the service declares.
        [HTTP_PUBLIC_METADATA]: ["GET /healthz", "GET /openapi.json", ...(def.publicRoutes ?? [])]
          .map((r) => publicRoute(prefix, r))
          .join(","),
        ...levelsMetadata(def.slo),
      },
      queue: "q",
      // Each endpoint's `data` in `$SRV.STATS`: outbox and consumer figures (the edge's dashboard reads them).
      statsHandler: async () => (figures ? figures().catch(() => null) : null),
    });
    const instanceId = service.info().id;
    logger = logger.child({ instance: instanceId });
    const anyStore = store as Store<Record<string, unknown>>;
    const js = jetstream(nc);
    const pullJs = pullNc === nc ? js : jetstream(pullNc);
    // No API check: each puller opens its durable in its own retrying loop.
    const pullJsm = await jetstreamManager(pullNc, { checkAPI: false });
    let relay: OutboxRelay | null = null;
    // Events, tasks and task results all leave through the outbox.
    if (def.events?.length || works.length > 0 || submits.length > 0) {
      relay = new OutboxRelay({ store: anyStore, nc, logger, owner: instanceId });
    }
    const outbox = createOutbox(anyStore, () => relay?.kick());
    const consumers: EventConsumer[] = [];
    const metrics = createServiceMetrics({
      service: def.name,
      instance: instanceId,
      nc,
      store: anyStore,
      relay,
      consumers,
      tasks: { works, submits },
    });
    undo.push(() => metrics.close());
    figures = metrics.stats;
    let callbacks: Record<string, TaskCallback> = {};
    let taskResults: ResultRunner | null = null;
    const tasks = createTaskClient({
      service: def.name,
      store: anyStore,
      callbacks: () => new Set(Object.keys(callbacks)),
      onCommitted: () => relay?.kick(),
      onDeadline: (deadline) => taskResults?.expect(deadline),
    });
    const ctx: ServiceContext<S> = { name: def.name, instanceId, config, logger, nc, store, outbox, tasks };
    callbacks = countedCallbacks(
      (def.tasks?.callbacks?.(ctx) ?? {}) as Record<string, TaskCallback>,
      anyStore,
      metrics.taskResult,
    );
    let taskWorker: TaskWorker | null = null;
    // For `runnerly tasks ls`: its queue read afresh, and when a failure is a dead letter.
    let readQueue: (() => Promise<TaskQueueFigures>) | null = null;
    const maxDeliver = new Map<string, number>();
    if (works.length > 0 || submits.length > 0) {
      const jsm = await jetstreamManager(nc, { checkAPI: false });
      if (works.length > 0) {
        const handlers = (def.tasks?.handlers?.(ctx) ?? []) as TaskHandler[];
        for (const h of handlers) maxDeliver.set(h.task.name, h.maxDeliver);
        readQueue = () => readTaskQueue(jsm, def.name, works);
        for (const task of works) {
          if (!handlers.some((h) => h.task.name === task.name && h.task.version === task.version))
            throw new Error(`${def.name}: no handler for task ${task.name} v${task.version}`);
        }
        taskWorker = new TaskWorker({
          service: def.name,
          store: anyStore,
          js: pullJs,
          jsm: pullJsm,
          logger,
          handlers,
          concurrency: def.tasks?.concurrency ?? TASK_WORKER_DEFAULTS.concurrency,
          prefetch: def.tasks?.prefetch ?? TASK_WORKER_DEFAULTS.prefetch,
          ackWaitMs: config.TASKS_ACK_WAIT_MS,
          replicas: config.EVENTS_REPLICAS,
          onCommitted: () => relay?.kick(),
        });
      }
      if (submits.length > 0) {
        taskResults = new ResultRunner({
          service: def.name,
          store: anyStore,
          js: pullJs,
          jsm: pullJsm,
          logger,
          callbacks,
          client: tasks,
          ackWaitMs: config.TASKS_ACK_WAIT_MS,
          replicas: config.EVENTS_REPLICAS,
        });
      }
    }
    const app = buildApp({
      name: def.name,
      version: def.version,
      prefix,
      instanceId,
      logger,
      store: anyStore,
      description: def.description,
      routes: def.routes?.(ctx),
      shedding: sheddingOptionsFromEnv(options.env ?? process.env),
      metrics,
    });

    const inflight = new Set<Promise<unknown>>();
    const track = (p: Promise<unknown>) => {
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    };
    const origin = `http://${def.name}.mesh`;
    // Streamed replies end at their cap, or when the instance stops.
    const streamsStop = new AbortController();
    const streams = { maxMs: config.SERVICE_STREAM_MAX_MS, signal: streamsStop.signal };
    service.addEndpoint(HTTP_ENDPOINT, {
      subject: httpSubject(def.name),
      handler: (_err, msg) => track(serveHttpMessage(app, msg, origin, logger, streams)),
    });
    // The same surface on a subject of this instance alone: the edge picks the instance of each try.
    service.addEndpoint(HTTP_INSTANCE_ENDPOINT, {
      subject: instanceSubject(def.name, instanceId),
      metadata: { kind: "http-instance" },
      handler: (_err, msg) => track(serveHttpMessage(app, msg, origin, logger, streams)),
    });
    // The same surface for requests that ask for this major version (`Api-Version`, canaries).
    const major = majorOf(def.version);
    if (major !== null) {
      service.addEndpoint(versionedEndpoint(major), {
        subject: versionedSubject(def.name, major),
        handler: (_err, msg) => track(serveHttpMessage(app, msg, origin, logger, streams)),
      });
    }
    if (def.rpc) {
      const handlers = def.rpc.handlers(ctx) as Record<
        string,
        (input: unknown, meta: unknown) => Promise<unknown>
      >;
      for (const [method, schema] of Object.entries(def.rpc.contract.methods)) {
        const handler = handlers[method];
        if (!handler) throw new Error(`${def.name}: no handler for RPC method ${method}`);
        service.addEndpoint(method, {
          subject: rpcSubject(def.name, method),
          metadata: { kind: "rpc" },
          handler: (_err, msg) => track(serveRpcMessage(schema, handler as never, msg, logger)),
        });
      }
    }

    const consumerDefs = def.consumers?.(ctx) ?? [];
    if (consumerDefs.length > 0) {
      for (const c of consumerDefs) {
        const withDefaults = { ackWaitMs: config.EVENTS_ACK_WAIT_MS, ...c } as ConsumerDefinition;
        consumers.push(
          new EventConsumer({ store: anyStore, js: pullJs, jsm: pullJsm, logger }, withDefaults),
        );
      }
    }
    if (relay || consumers.length > 0) {
      addAdminEndpoints({
        service,
        name: def.name,
        store: anyStore,
        relay,
        consumers,
        logger,
        track,
        tasks,
        taskQueue: readQueue,
        maxDeliver,
      });
    }
    const background = def.background?.(ctx) ?? [];
    const http: HttpServer = serveDirectHttp((req) => app.fetch(req), config.HOST, config.PORT);
    undo.push(() => http.stop());
    await announce(nc, { event: "started", name: def.name, id: instanceId, version: def.version });
    // Last, once nothing else can fail: background work that would outlive a failed start.
    relay?.start();
    for (const c of consumers) c.start();
    taskWorker?.start();
    taskResults?.start();
    for (const t of background) t.start();
    logger.info({ url: http.url, prefix, version: def.version, store: store.driver }, "service ready");
    // Once this turn's replies (the first `$SRV.PING`s) have been written: loading and setting up
    // the process metrics is 20–30 ms of synchronous work.
    const processMetrics = setImmediate(() => metrics.startProcessMetrics());

    let stopping: Promise<void> | null = null;
    const stop = () => {
      stopping ??= (async function gracefulStop() {
        clearImmediate(processMetrics);
        logger.info("service stopping");
        await announce(nc, { event: "stopped", name: def.name, id: instanceId, version: def.version }).catch(
          () => {},
        );
        await service.stop().catch(() => null);
        await http.stop().catch(() => {});
        streamsStop.abort();
        await settle(inflight, config.SHUTDOWN_TIMEOUT_MS);
        for (const t of background) await t.stop().catch(() => {});
        await taskWorker?.stop();
        await taskResults?.stop();
        for (const c of consumers) await c.stop();
        if (pullNc !== nc) await pullNc.drain().catch(() => {});
        await relay?.stop();
        await nc.drain().catch(() => {});
        metrics.close();
        await store.close();
        logger.info("service stopped");
      })();
      return stopping;
    };
    return { ...ctx, url: http.url, app, service, relay, consumers, taskWorker, taskResults, metrics, stop };
  } catch (err) {
    for (const step of undo.reverse()) await Promise.resolve(step()).catch(() => {});
    await nc.close().catch(() => {});
    await store.close();
    throw err;
  }
}

/** The service's callbacks, each counted in its metrics once the callback's transaction commits. */
function countedCallbacks(
  callbacks: Record<string, TaskCallback>,
  store: Store<Record<string, unknown>>,
  count: (task: string, status: string) => void,
): Record<string, TaskCallback> {
  const counted: Record<string, TaskCallback> = {};
  for (const [name, callback] of Object.entries(callbacks)) {
    counted[name] = {
      task: callback.task,
      async handle(tx, outcome, ctx) {
        await callback.handle(tx, outcome, ctx);
        store.afterCommit(() => count(outcome.task, outcome.status));
      },
    };
  }
  return counted;
}

/** On the service's own announce subject: the only one its NATS user may publish, the only one the edge believes for it. */
async function announce(nc: NatsConnection, a: Announcement): Promise<void> {
  nc.publish(announceSubject(a.name), JSON.stringify(a));
  await nc.flush();
}

/** Waits for in-flight work, but never longer than `ms`. */
async function settle(inflight: Set<Promise<unknown>>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<void>((r) => {
    timer = setTimeout(r, ms);
  });
  await Promise.race([Promise.allSettled([...inflight]), limit]);
  clearTimeout(timer);
}

/** `POST /login` relative to `/api/accounts` → `POST /api/accounts/login`. */
function publicRoute(prefix: string, route: string): string {
  const [method, path] = route.trim().split(/\s+/);
  if (!method || !path?.startsWith("/"))
    throw new Error(`publicRoutes entry "${route}" must look like "POST /login"`);
  return `${method.toUpperCase()} ${prefix}${path === "/" ? "" : path}`;
}

/**
 * Makes one `T` per running instance of a service, the first time any of its
 * definition's functions (routes, rpc, consumers, background) asks for it, so
 * that they share it: one pool, one key ring, one worker per instance.
 *
 * @example
 * const poolOf = perInstance((ctx) => new WorkPool({ name: "GPX import", module }));
 * defineService({ …, routes: (ctx) => routes(poolOf(ctx)), background: (ctx) => [stopping(poolOf(ctx))] });
 */
export function perInstance<S extends AnySchema, T>(
  make: (ctx: ServiceContext<S>) => T,
): (ctx: ServiceContext<S>) => T {
  const made = new WeakMap<object, T>();
  return (ctx) => {
    if (!made.has(ctx.store)) made.set(ctx.store, make(ctx));
    return made.get(ctx.store) as T;
  };
}
