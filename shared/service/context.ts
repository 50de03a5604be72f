/**
 * Per-request mesh context for a service's Hono app: request id, caller,
 * deadline, the request's SERVER span (a child of the caller's `traceparent`,
 * active while the request is handled) and a logger bound to them.
 */
import type { Context, MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { withDeadline } from "../deadline/index.ts";
import { MeshError } from "../errors/index.ts";
import { type Logger, lazyChild } from "../log/logger.ts";
import { MeshHeader } from "../protocol/index.ts";
import {
  Attr,
  extractContext,
  failSpan,
  failStatus,
  inSpan,
  type Span,
  SpanKind,
  startSpan,
  traceFields,
  traceparentOf,
  useAsyncContext,
} from "../trace/index.ts";

/** What a request carries through the mesh (also forwarded on RPC calls). */
export type MeshMeta = {
  requestId: string;
  /** Verified caller (the edge's `Mesh-User`), if any. */
  user: string | undefined;
  /** The caller's address as the edge resolved it (`Mesh-Client-Address`), if any. */
  clientAddress: string | undefined;
  /** Absolute Unix ms after which nobody waits for the answer. */
  deadline: number | undefined;
  /** This hop's span as the parent of the next (RPC calls, events); same trace id as the caller's. */
  traceparent: string | undefined;
};

/** Hono environment of every kit service app. */
export type MeshEnv = {
  Variables: {
    mesh: MeshMeta;
    log: Logger;
  };
};

/**
 * Reads the mesh headers into `c.var.mesh`, runs the request inside a SERVER
 * span (exported when tracing is on) and binds a request logger carrying the
 * request id, trace id and span id.
 */
export const meshContext = (logger: Logger): MiddlewareHandler<MeshEnv> => {
  useAsyncContext();
  return async function meshContextMiddleware(c, next) {
    const deadlineRaw = Number(c.req.header(MeshHeader.Deadline));
    const requestId = c.req.header(MeshHeader.RequestId) || crypto.randomUUID();
    const parent = extractContext(c.req.raw.headers);
    const span = startSpan(c.req.method, {
      kind: SpanKind.SERVER,
      parent,
      attributes: {
        [Attr.HttpMethod]: c.req.method,
        [Attr.UrlPath]: c.req.path,
        [Attr.RequestId]: requestId,
      },
    });
    const mesh: MeshMeta = {
      requestId,
      user: c.req.header(MeshHeader.User) || undefined,
      clientAddress: c.req.header(MeshHeader.ClientAddress) || undefined,
      deadline: Number.isFinite(deadlineRaw) && deadlineRaw > 0 ? deadlineRaw : undefined,
      traceparent: traceparentOf(span),
    };
    c.set("mesh", mesh);
    // Bound only if the request logs something.
    c.set(
      "log",
      lazyChild(logger, () => ({ requestId, ...traceFields(span) })),
    );
    try {
      // The deadline goes with the handler's work: the store will not commit past it.
      await withDeadline(mesh.deadline, () => inSpan(span, parent, next));
    } finally {
      endRequestSpan(span, c);
    }
  };
};

/** Names the span after the route that answered and records the outcome. */
function endRequestSpan(span: Span, c: Context): void {
  // Without an SDK the span records nothing: only its id travelled.
  if (!span.isRecording()) {
    span.end();
    return;
  }
  try {
    const route = routePath(c);
    // A 404 answered by no route would otherwise be named after a middleware's wildcard.
    if (route && !route.endsWith("*")) {
      span.updateName(`${c.req.method} ${route}`);
      span.setAttribute(Attr.HttpRoute, route);
    }
    span.setAttribute(Attr.HttpStatus, c.res.status);
    // A 4xx is the caller's mistake, not this service's failure (OpenTelemetry's HTTP server rule).
    if (c.res.status >= 500) {
      if (c.error) failSpan(span, c.error);
      else failStatus(span, c.res.status);
    }
  } finally {
    span.end();
  }
}

/**
 * The authenticated caller's id, or a 401 problem when the request came without one.
 *
 * @example
 * app.openapi(listRuns, async (c) => { const owner = requireUser(c); … });
 */
export function requireUser(c: Context<MeshEnv>): string {
  const user = c.get("mesh")?.user;
  if (!user) {
    throw new MeshError(401, {
      detail: "This route needs an authenticated caller (the edge sets Mesh-User after verifying a token).",
      headers: { "www-authenticate": "Bearer" },
    });
  }
  return user;
}
