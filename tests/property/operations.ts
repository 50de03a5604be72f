/**
 * The operations of an OpenAPI 3.1 document, flattened into what a request
 * generator needs: method, path template, parameters, body media type and
 * schema, and whether a bearer token is required.
 */
import type { JsonSchema } from "./json-schema.ts";

export type Parameter = {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required: boolean;
  schema: JsonSchema;
};

export type Operation = {
  /** Upper-case HTTP method. */
  method: string;
  /** Path template with `{name}` parameters, e.g. `/api/runs/runs/{id}`. */
  path: string;
  /** True when the document requires a bearer token (an operation with `security`). */
  secured: boolean;
  parameters: Parameter[];
  /** The first media type of the request body and its schema, when there is a body. */
  body: { mediaType: string; schema: JsonSchema } | null;
};

/** The parts of a document read here. */
export type OpenApiDocument = {
  paths?: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, JsonSchema> };
};

type OperationObject = {
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
};

const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/**
 * Every operation of a document, in document order.
 *
 * @example
 * const ops = operationsOf(await (await fetch(`${edge}/openapi.json`)).json());
 * ops.find((o) => o.method === "POST" && o.path === "/api/runs/runs")?.body?.mediaType // "application/json"
 */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, raw] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const op = raw as OperationObject;
      const content = Object.entries(op.requestBody?.content ?? {})[0];
      out.push({
        method: method.toUpperCase(),
        path,
        secured: Array.isArray(op.security) && op.security.length > 0,
        parameters: op.parameters ?? [],
        body: content ? { mediaType: content[0], schema: content[1].schema ?? {} } : null,
      });
    }
  }
  return out;
}

/**
 * Routes the document does not list but a client can still call: the
 * edge's own, each service's health and document, and paths nobody serves.
 * They get hostile queries, headers and methods like any operation.
 */
export function strayOperations(services: string[]): Operation[] {
  const get = (path: string): Operation => ({
    method: "GET",
    path,
    secured: false,
    parameters: [],
    body: null,
  });
  return [
    ...["/healthz", "/readyz", "/metrics", "/_/routes", "/_/nothing", "/openapi.json", "/docs", "/"].map(get),
    ...["/.well-known/jwks.json", "/app.js", "/api", "/api/", "/api/nobody/x", "/api/runsx"].map(get),
    ...services.flatMap((s) => [
      get(`/api/${s}/healthz`),
      get(`/api/${s}/openapi.json`),
      get(`/api/${s}/nothing`),
    ]),
  ];
}

/** `METHOD /path/{template}`: how an operation is named in failures and counts. */
export const operationName = (op: Operation) => `${op.method} ${op.path}`;
