/**
 * Per-request mesh context for a service's Hono app: request id, caller,
 * deadline, trace context and a logger bound to them.
 */
import type { Context, MiddlewareHandler } from "hono";
import { MeshError } from "../errors/index.ts";
import type { Logger } from "../log/logger.ts";
import { MeshHeader } from "../protocol/index.ts";

/** What a request carries through the mesh (also forwarded on RPC calls). */
export type MeshMeta = {
  requestId: string;
  /** Verified caller (the edge's `Mesh-User`), if any. */
  user: string | undefined;
  /** Absolute Unix ms after which nobody waits for the answer. */
  deadline: number | undefined;
  traceparent: string | undefined;
};

/** Hono environment of every kit service app. */
export type MeshEnv = {
  Variables: {
    mesh: MeshMeta;
    log: Logger;
  };
};

/** Reads the mesh headers into `c.var.mesh` and binds a request logger. */
export const meshContext = (logger: Logger): MiddlewareHandler<MeshEnv> => {
  return async function meshContextMiddleware(c, next) {
    const deadlineRaw = Number(c.req.header(MeshHeader.Deadline));
    const mesh: MeshMeta = {
      requestId: c.req.header(MeshHeader.RequestId) || crypto.randomUUID(),
      user: c.req.header(MeshHeader.User) || undefined,
      deadline: Number.isFinite(deadlineRaw) && deadlineRaw > 0 ? deadlineRaw : undefined,
      traceparent: c.req.header(MeshHeader.Traceparent) || undefined,
    };
    c.set("mesh", mesh);
    const traceId = mesh.traceparent?.split("-")[1];
    c.set("log", logger.child({ requestId: mesh.requestId, ...(traceId ? { traceId } : {}) }));
    await next();
  };
};

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
