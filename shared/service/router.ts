/**
 * The Hono app of a service: its routes under `/api/<name>`, a health route,
 * `/metrics` outside the prefix (the service's own port and NATS endpoint only),
 * and one error path that turns anything thrown into a problem+json response.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Store } from "../db/index.ts";
import { MeshError, toMeshError, validationError } from "../errors/index.ts";
import type { Logger } from "../log/logger.ts";
import { METRICS_PATH } from "../metrics/http.ts";
import type { ServiceMetrics } from "../metrics/index.ts";
import { type MeshEnv, meshContext } from "./context.ts";
import { idempotency } from "./idempotency.ts";
import { strictJsonBody } from "./json-body.ts";
import { loadShedding, type SheddingOptions } from "./shedding.ts";

/** Names of input sources as clients know them (Hono calls the JSON body `json`). */
const SOURCES: Record<string, string> = {
  json: "body",
  form: "body",
  query: "query",
  param: "path",
  header: "header",
  cookie: "cookie",
};

/**
 * A router for a service's routes (relative to its prefix) whose validation
 * failures are 400 problems naming each bad field (`body.distance`, `query.limit`).
 *
 * @example
 * const app = createRouter();
 * app.openapi(createRoute({ method: "get", path: "/runs/{id}", ... }), handler);
 */
export function createRouter(): OpenAPIHono<MeshEnv> {
  return new OpenAPIHono<MeshEnv>({
    defaultHook(result) {
      if (!result.success) throw validationError(result.error, SOURCES[result.target] ?? result.target);
    },
  });
}

export type AppOptions = {
  name: string;
  version: string;
  prefix: string;
  instanceId: string;
  logger: Logger;
  /** When given, POSTs with an Idempotency-Key are recorded in it and replayed. */
  store?: Store<Record<string, unknown>>;
  routes?: Hono<MeshEnv> | undefined;
  description?: string | undefined;
  /** Concurrency limit with fast 503s (health is exempt); none: no limit. */
  shedding?: SheddingOptions;
  /** Request metrics for every route, and `GET /metrics` outside the prefix (the edge never routes there). */
  metrics?: Pick<ServiceMetrics, "middleware" | "handler" | "shed">;
};

/** The methods whose requests may carry a body the service reads. */
const BODY_METHODS = ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** Where a service serves its OpenAPI document (a public route). */
export const openApiPath = (prefix: string) => `${prefix}/openapi.json`;

/** Assembles the service's root app: metrics, context, load shedding, health, routes, errors. */
export function buildApp(options: AppOptions): Hono<MeshEnv> {
  const app = createRouter();
  const { metrics } = options;
  if (metrics) {
    // First: shed and failed requests are measured too. `/metrics` answers before
    // the middleware below, so a scrape is neither shed nor counted.
    app.use("*", metrics.middleware);
    app.get(METRICS_PATH, metrics.handler);
  }
  app.use("*", meshContext(options.logger));
  // Health answers before the steps below, as `/metrics` does: a busy instance is still alive,
  // so neither is ever shed, and a probe passes no step it does not need.
  app.get(`${options.prefix}/healthz`, (c) =>
    c.json({ status: "ok", service: options.name, version: options.version, instance: options.instanceId }),
  );
  if (options.shedding) {
    app.use("*", loadShedding(metrics ? { ...options.shedding, onShed: metrics.shed } : options.shedding));
  }
  // Each step only for the methods it applies to: a GET passes neither. A JSON body must
  // be UTF-8 (400 otherwise), checked before idempotency fingerprints it.
  app.on(BODY_METHODS, "*", strictJsonBody());
  if (options.store) app.on("POST", `${options.prefix}/*`, idempotency(options.store));
  if (options.routes) app.route(options.prefix, options.routes);
  // The service's own OpenAPI document; the edge merges every service's into /openapi.json.
  app.doc31(openApiPath(options.prefix), {
    openapi: "3.1.0",
    info: { title: options.name, version: options.version, description: options.description ?? "" },
    servers: [{ url: "/" }],
  });
  app.notFound((c) =>
    new MeshError(404, { detail: `No route for ${c.req.method} ${c.req.path}` }).toResponse(),
  );
  app.onError((err, c) => {
    const mesh = toHttpError(err);
    const log = c.get("log") ?? options.logger;
    if (mesh.status >= 500) log.error({ err: errorDetails(err) }, "request failed");
    return mesh.toResponse(c.req.path);
  });
  return app;
}

function toHttpError(err: unknown): MeshError {
  if (err instanceof HTTPException) {
    // Hono's own 4xx (malformed JSON body, unsupported media type) keep their status.
    const detail = err.status === 400 && /JSON/i.test(err.message) ? "body: not valid JSON" : err.message;
    return new MeshError(err.status, { detail, type: "https://runnerly.dev/problems/bad-input" });
  }
  return toMeshError(err);
}

function errorDetails(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return { message: err.message, stack: err.stack, ...(cause ? { cause: String(cause) } : {}) };
  }
  return { value: String(err) };
}
