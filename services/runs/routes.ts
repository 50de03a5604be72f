/**
 * HTTP routes of the runs service (relative to `/api/runs`). Every route acts
 * for the caller named by the edge; another runner's run is a 404.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, type Db, MeshError, type Outbox, requireUser, type Store } from "@runnerly/kit";
import { and, desc, eq, lt, or } from "drizzle-orm";
import {
  ListQuery,
  Run,
  RunId,
  RunInput,
  RunPage,
  RunPatch,
  runDeleted,
  runLogged,
  runUpdated,
} from "./contract.ts";
import * as schema from "./db/schema.ts";
import { decodeCursor, encodeCursor, toEventData, toRun, toUtcIso } from "./runs.ts";

type Schema = typeof schema;
const { runs } = schema;

const problem = {
  "application/problem+json": { schema: z.object({ title: z.string(), status: z.number() }) },
};
const errors = {
  400: { description: "Invalid input", content: problem },
  401: { description: "No authenticated caller", content: problem },
  404: { description: "No such run for this caller", content: problem },
};
const json = <T extends z.ZodType>(schema: T) => ({
  content: { "application/json": { schema } },
  required: true,
});

export const createRun = createRoute({
  method: "post",
  path: "/runs",
  summary: "Log a run",
  request: { body: json(RunInput) },
  responses: { 201: { description: "Created", content: { "application/json": { schema: Run } } }, ...errors },
});
export const listRuns = createRoute({
  method: "get",
  path: "/runs",
  summary: "List the caller's runs, newest first",
  request: { query: ListQuery },
  responses: {
    200: { description: "A page of runs", content: { "application/json": { schema: RunPage } } },
    ...errors,
  },
});
export const getRun = createRoute({
  method: "get",
  path: "/runs/{id}",
  summary: "Get one run",
  request: { params: RunId },
  responses: { 200: { description: "The run", content: { "application/json": { schema: Run } } }, ...errors },
});
export const updateRun = createRoute({
  method: "patch",
  path: "/runs/{id}",
  summary: "Change some fields of a run",
  request: { params: RunId, body: json(RunPatch) },
  responses: {
    200: { description: "The updated run", content: { "application/json": { schema: Run } } },
    ...errors,
  },
});
export const deleteRun = createRoute({
  method: "delete",
  path: "/runs/{id}",
  summary: "Delete a run",
  request: { params: RunId },
  responses: { 204: { description: "Deleted" }, ...errors },
});

const notFound = (id: string) => new MeshError(404, { detail: `run ${id} not found` });

async function findOwned(db: Db<Schema>, owner: string, id: string) {
  const row = await db
    .select()
    .from(runs)
    .where(and(eq(runs.id, id), eq(runs.owner, owner)))
    .get();
  if (!row) throw notFound(id);
  return row;
}

export function runsRoutes(store: Store<Schema>, outbox: Outbox) {
  const app = createRouter();

  app.openapi(createRun, async (c) => {
    const owner = requireUser(c);
    const input = c.req.valid("json");
    const now = new Date().toISOString();
    const row = {
      id: crypto.randomUUID(),
      owner,
      distanceM: input.distanceM,
      durationS: input.durationS,
      startedAt: toUtcIso(input.startedAt),
      kind: input.kind,
      notes: input.notes,
      createdAt: now,
      updatedAt: now,
    };
    const traceparent = c.get("mesh").traceparent;
    await store.write(async (tx) => {
      await tx.insert(runs).values(row).run();
      await outbox.emit(tx, runLogged, toEventData(row), { aggregate: row.id, traceparent });
    });
    c.header("location", `/api/runs/runs/${row.id}`);
    return c.json(toRun(row), 201);
  });

  app.openapi(listRuns, async (c) => {
    const owner = requireUser(c);
    const q = c.req.valid("query");
    const cursor = q.cursor === undefined ? null : decodeCursor(q.cursor);
    if (q.cursor !== undefined && !cursor) {
      throw new MeshError(400, {
        detail: "query.cursor is not a cursor this service issued",
        errors: [{ path: "query.cursor", message: "unknown cursor" }],
      });
    }
    const filters = [eq(runs.owner, owner)];
    if (q.kind) filters.push(eq(runs.kind, q.kind));
    if (cursor) {
      filters.push(
        or(
          lt(runs.startedAt, cursor.startedAt),
          and(eq(runs.startedAt, cursor.startedAt), lt(runs.id, cursor.id)),
        )!,
      );
    }
    const rows = await store.db
      .select()
      .from(runs)
      .where(and(...filters))
      .orderBy(desc(runs.startedAt), desc(runs.id))
      .limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    const nextCursor = rows.length > q.limit && last ? encodeCursor(last) : null;
    return c.json({ items: page.map(toRun), nextCursor }, 200);
  });

  app.openapi(getRun, async (c) => {
    const owner = requireUser(c);
    const { id } = c.req.valid("param");
    return c.json(toRun(await findOwned(store.db, owner, id)), 200);
  });

  app.openapi(updateRun, async (c) => {
    const owner = requireUser(c);
    const { id } = c.req.valid("param");
    const patch = c.req.valid("json");
    const row = await store.write(async (tx) => {
      await findOwned(tx, owner, id);
      const changes = {
        ...patch,
        ...(patch.startedAt ? { startedAt: toUtcIso(patch.startedAt) } : {}),
        updatedAt: new Date().toISOString(),
      };
      const updated = await tx.update(runs).set(changes).where(eq(runs.id, id)).returning().get();
      if (updated) {
        await outbox.emit(tx, runUpdated, toEventData(updated), {
          aggregate: id,
          traceparent: c.get("mesh").traceparent,
        });
      }
      return updated;
    });
    if (!row) throw notFound(id);
    return c.json(toRun(row), 200);
  });

  app.openapi(deleteRun, async (c) => {
    const owner = requireUser(c);
    const { id } = c.req.valid("param");
    await store.write(async (tx) => {
      await findOwned(tx, owner, id);
      await tx.delete(runs).where(eq(runs.id, id)).run();
      await outbox.emit(
        tx,
        runDeleted,
        { runId: id, user: owner },
        { aggregate: id, traceparent: c.get("mesh").traceparent },
      );
    });
    return c.body(null, 204);
  });

  return app;
}
