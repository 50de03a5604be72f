/**
 * `/openapi.json`: one OpenAPI document for the whole mesh, merged live from
 * the documents the discovered services serve at `<prefix>/openapi.json`.
 * Each service's schemas are namespaced (`runs_Run`) so two services may both
 * have a `User`; its operations are tagged with its name; operations that are
 * not public get the bearer-token requirement. Web standards only.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { isPublicRoute, type Logger, natsToResponseInit, requestToNatsHeaders } from "@runnerly/kit/web";
import type { Route, RouteView } from "../discovery/route-table.ts";

type Doc = {
  info?: { title?: string; version?: string; description?: string };
  paths?: Record<string, Record<string, Record<string, unknown>>>;
  components?: { schemas?: Record<string, unknown> };
};

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** Merges service documents (already fetched) into one document. */
export function mergeDocuments(
  docs: { route: Route; doc: Doc }[],
  info: { title: string; version: string },
  withAuth: boolean,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const schemas: Record<string, unknown> = {};
  const tags: { name: string; description: string }[] = [];
  for (const { route, doc } of docs) {
    const ns = route.service.replace(/[^A-Za-z0-9_]/g, "_");
    // Rename component references to their namespaced names, throughout the document.
    const renamed = JSON.parse(
      JSON.stringify(doc).replaceAll('"#/components/schemas/', `"#/components/schemas/${ns}_`),
    ) as Doc;
    for (const [name, schema] of Object.entries(renamed.components?.schemas ?? {}))
      schemas[`${ns}_${name}`] = schema;
    tags.push({
      name: route.service,
      description: doc.info?.description ?? `${route.service} ${doc.info?.version ?? ""}`,
    });
    for (const [path, item] of Object.entries(renamed.paths ?? {})) {
      if (!(path === route.prefix || path.startsWith(`${route.prefix}/`))) continue; // a service documents only its prefix
      const out: Record<string, unknown> = { ...(paths[path] ?? {}) };
      for (const [method, op] of Object.entries(item)) {
        if (!METHODS.includes(method)) continue;
        const concrete = path.replace(/\{[^/}]+\}/g, "x");
        const isPublic = isPublicRoute(route.publicRoutes, method, concrete);
        out[method] = {
          ...op,
          tags: [route.service],
          ...(withAuth && !isPublic ? { security: [{ bearer: [] }] } : {}),
        };
      }
      paths[path] = out;
    }
  }
  return {
    openapi: "3.1.0",
    info: { ...info, description: "Every service the gateway has discovered, merged live." },
    tags,
    paths,
    components: {
      schemas,
      ...(withAuth
        ? { securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } }
        : {}),
    },
  };
}

/**
 * Serves the merged document, fetching each service's own document again
 * whenever the route table (instances or versions) changed.
 */
export function openApiSource(nc: NatsConnection, routes: RouteView, logger: Logger, withAuth: boolean) {
  let cached: { key: string; doc: Record<string, unknown> } | null = null;

  async function fetchDoc(route: Route): Promise<Doc | null> {
    const path = `${route.prefix === "/" ? "" : route.prefix}/openapi.json`;
    const headers = requestToNatsHeaders("GET", path, new Headers({ accept: "application/json" }), {
      requestId: crypto.randomUUID(),
      deadline: Date.now() + 2000,
      traceparent: `00-${"0".repeat(31)}1-${"0".repeat(15)}1-00`,
    });
    try {
      const reply = await nc.request(route.subject, new Uint8Array(0), { headers, timeout: 2000 });
      if (natsToResponseInit(reply.headers).status !== 200) return null;
      const doc = reply.json<Doc>();
      return doc && typeof doc === "object" && doc.paths ? doc : null;
    } catch (err) {
      logger.debug({ service: route.service, err: String(err) }, "no OpenAPI document");
      return null;
    }
  }

  return async function document(): Promise<Record<string, unknown>> {
    const live = routes.list().filter((r) => r.instances.length > 0);
    const key = live
      .map((r) => `${r.prefix}@${r.instances.map((i) => `${i.id}:${i.version}`).join(",")}`)
      .join("|");
    if (cached?.key === key) return cached.doc;
    const docs = await Promise.all(live.map(async (route) => ({ route, doc: await fetchDoc(route) })));
    const present = docs.filter((d): d is { route: Route; doc: Doc } => d.doc !== null);
    const doc = mergeDocuments(present, { title: "Runnerly API", version: "1" }, withAuth);
    cached = { key, doc };
    return doc;
  };
}
