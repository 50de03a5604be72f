/**
 * `Idempotency-Key` on POST: the first request with a key runs in one write
 * transaction together with the record of its response, so its effects and
 * that record commit (or vanish) together. A later request with the same key
 * and caller gets the recorded response replayed and changes nothing, even if
 * the process that handled the first one died before it could reply.
 */
import { and, eq, lt } from "drizzle-orm";
import { blob, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { MiddlewareHandler } from "hono";
import type { Db, Store } from "../db/index.ts";
import { MeshError } from "../errors/index.ts";
import type { MeshEnv } from "./context.ts";

/** Kit-owned table, in every store beside the service's own tables; created by the kit's migrations (shared/drizzle). */
export const idempotencyKeys = sqliteTable(
  "_mesh_idempotency",
  {
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    fingerprint: text("fingerprint").notNull(),
    status: integer("status").notNull(),
    headers: text("headers").notNull(),
    body: blob("body", { mode: "buffer" }).notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] })],
);

/** How long a key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const REPLAY_HEADER = "idempotent-replayed";

type AnyDb = Db<Record<string, unknown>>;
type Recorded = typeof idempotencyKeys.$inferSelect;

/** Signals that the handler failed with a 5xx: its effects must not commit. */
class RollBack extends Error {}

/**
 * Middleware honouring `Idempotency-Key` on POST for one service's store.
 *
 * @example
 * app.use("*", idempotency(store));
 */
export const idempotency = (store: Store<Record<string, unknown>>): MiddlewareHandler<MeshEnv> => {
  return async function idempotencyMiddleware(c, next) {
    if (c.req.method !== "POST") return next();
    const key = c.req.header("idempotency-key");
    if (key === undefined) return next();
    if (!KEY_PATTERN.test(key)) {
      const message = "must be 1 to 255 visible ASCII characters";
      throw new MeshError(400, {
        detail: `header.Idempotency-Key ${message}`,
        errors: [{ path: "header.Idempotency-Key", message }],
      });
    }
    const scope = `${c.get("mesh").user ?? ""} ${c.req.path}`;
    const fingerprint = await digest(c.req.method, c.req.url, new Uint8Array(await c.req.arrayBuffer()));
    const seen = await find(store.db, scope, key);
    if (seen) return replay(seen, fingerprint);

    let replayed: Response | undefined;
    try {
      await store.write(async (tx) => {
        // Checked again under the write lock: a concurrent twin may have just committed.
        const twin = await find(tx, scope, key);
        if (twin) {
          replayed = replay(twin, fingerprint);
          return;
        }
        await next();
        const res = c.res;
        if (res.status >= 500) throw new RollBack();
        const body = Buffer.from(await res.clone().arrayBuffer());
        await (tx as AnyDb).insert(idempotencyKeys).values({
          scope,
          key,
          fingerprint,
          status: res.status,
          headers: JSON.stringify([...res.headers]),
          body,
          createdAt: Date.now(),
        });
        if (Math.random() < 0.01) {
          await (tx as AnyDb)
            .delete(idempotencyKeys)
            .where(lt(idempotencyKeys.createdAt, Date.now() - IDEMPOTENCY_TTL_MS));
        }
      });
    } catch (err) {
      if (!(err instanceof RollBack)) throw err;
    }
    if (replayed) return replayed;
  };
};

async function find(db: unknown, scope: string, key: string): Promise<Recorded | undefined> {
  return (db as AnyDb)
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
    .get();
}

function replay(row: Recorded, fingerprint: string): Response {
  if (row.fingerprint !== fingerprint) {
    throw new MeshError(422, {
      detail: "This Idempotency-Key was already used for a different request; use a new key.",
      errors: [{ path: "header.Idempotency-Key", message: "reused with a different request" }],
    });
  }
  const headers = new Headers(JSON.parse(row.headers) as [string, string][]);
  headers.set(REPLAY_HEADER, "true");
  return new Response(row.status === 204 ? null : new Uint8Array(row.body), { status: row.status, headers });
}

async function digest(method: string, url: string, body: Uint8Array): Promise<string> {
  const head = new TextEncoder().encode(`${method} ${new URL(url).pathname}${new URL(url).search}\n`);
  const all = new Uint8Array(head.length + body.length);
  all.set(head);
  all.set(body, head.length);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return [...hash].map((b) => b.toString(16).padStart(2, "0")).join("");
}
