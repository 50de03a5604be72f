/**
 * The Runnerly kit: what every service imports. Web-standard pieces (protocol,
 * errors) are also available alone from `@runnerly/kit/web` for the edge.
 */
export { ConfigError, loadConfig, type ServiceConfig, serviceConfigSchema } from "./config/index.ts";
export {
  type Db,
  defaultDatabaseUrl,
  openStore,
  preparedPer,
  type Store,
  type StoreOptions,
} from "./db/index.ts";
export { checkDeadline, currentDeadline, withDeadline } from "./deadline/index.ts";
export * from "./errors/index.ts";
export {
  applyOnce,
  type ConsumerDefinition,
  defineConsumer,
  defineEvent,
  type EmitOptions,
  EventConsumer,
  type EventDefinition,
  type EventEnvelope,
  eventSubject,
  type HandlerContext,
  type Outbox,
  OutboxRelay,
  streamName,
} from "./events/index.ts";
export { createLogger, type Logger, silentLogger } from "./log/index.ts";
export {
  createServiceMetrics,
  METRICS_PATH,
  type ServiceMetrics,
  type ServiceMetricsOptions,
  type ServiceStatsData,
} from "./metrics/index.ts";
/** prom-client's metric classes, without its Pushgateway's start-up cost (metrics/prom.ts). */
export * as prom from "./metrics/prom.ts";
export {
  connectNats,
  connectNatsWithin,
  type NatsEnv,
  type NatsOptions,
  natsOptionsFrom,
} from "./nats/index.ts";
export * from "./protocol/index.ts";
export {
  createRpcClient,
  defineRpc,
  type RpcCallOptions,
  type RpcClient,
  type RpcContract,
  type RpcHandlers,
  type RpcMethod,
  type RpcMethods,
} from "./rpc/index.ts";
export { adminRpc } from "./service/admin.ts";
export { type MeshEnv, type MeshMeta, requireUser } from "./service/context.ts";
export {
  type BackgroundTask,
  defineService,
  perInstance,
  type RunningService,
  type ServiceContext,
  type ServiceDefinition,
  type StartOptions,
  startService,
} from "./service/index.ts";
export { type KvBucketDefinition, KvBucketNotProvisionedError, openKvBucket } from "./service/kv-buckets.ts";
export {
  jsonBody,
  jsonResponse,
  problemContent,
  problemResponses,
  statusResponse,
} from "./service/openapi.ts";
export { createRouter } from "./service/router.ts";
export { runService } from "./service/run.ts";
export {
  acceptsEventStream,
  type CallbackContext,
  defineCallback,
  defineTask,
  defineTaskHandler,
  type SubmitOptions,
  TASK_WORKER_DEFAULTS,
  type TaskCallback,
  type TaskClient,
  type TaskContext,
  type TaskDefinition,
  type TaskHandler,
  type TaskOutcome,
  type TaskOutcomeOf,
  type TaskResult,
  type TaskStatus,
  taskStatusResponse,
} from "./tasks/index.ts";
export {
  SpanKind,
  startTracing,
  type Tracing,
  type TracingOptions,
  traceFields,
  withSpan,
} from "./trace/index.ts";
export { WorkFailed, WorkPool, type WorkPoolFigures, type WorkPoolOptions } from "./work/pool.ts";
