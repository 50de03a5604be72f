/**
 * HTTP routes of the runs service (relative to `/api/runs`). Every route acts
 * for the caller named by the edge; another runner's run is a 404.
 */
import { createRoute, type z } from "@hono/zod-openapi";
import {
  createRouter,
  type Db,
  jsonBody,
  jsonResponse,
  MeshError,
  type Outbox,
  problemContent,
  problemResponses,
  requireUser,
  type Store,
  WorkFailed,
  type WorkPool,
} from "@runnerly/kit";
import { eq } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import {
  GpxUpload,
  ListQuery,
  MAX_DISTANCE_M,
  MAX_DURATION_S,
  MAX_GPX_BYTES,
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
import type { TrackSummary } from "./gpx.ts";
import { addRun, ownedRunIn, prepareRunReads } from "./queries.ts";
import { decodeCursor, encodeCursor, toEventData, toRun, toUtcIso } from "./runs.ts";

type Schema = typeof schema;
const { runs } = schema;

const errors = problemResponses({
  400: "Invalid input",
  401: "No authenticated caller",
  404: "No such run for this caller",
});

export const createRun = createRoute({
  method: "post",
  path: "/runs",
  summary: "Log a run",
  request: { body: jsonBody(RunInput) },
  responses: { 201: jsonResponse("Created", Run), ...errors },
});
export const listRuns = createRoute({
  method: "get",
  path: "/runs",
  summary: "List the caller's runs, newest first",
  request: { query: ListQuery },
  responses: {
    200: jsonResponse("A page of runs", RunPage),
    ...errors,
  },
});
export const getRun = createRoute({
  method: "get",
  path: "/runs/{id}",
  summary: "Get one run",
  request: { params: RunId },
  responses: { 200: jsonResponse("The run", Run), ...errors },
});
export const updateRun = createRoute({
  method: "patch",
  path: "/runs/{id}",
  summary: "Change some fields of a run",
  request: { params: RunId, body: jsonBody(RunPatch) },
  responses: {
    200: jsonResponse("The updated run", Run),
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

const form = <T extends z.ZodType>(schema: T) => ({
  content: { "multipart/form-data": { schema } },
  required: true,
});

export const importRun = createRoute({
  method: "post",
  path: "/runs/import",
  summary: "Log a run from a GPX file",
  request: { body: form(GpxUpload) },
  responses: {
    201: jsonResponse("Created from the track", Run),
    413: { description: "File too large", content: problemContent },
    ...errors,
  },
});
export const importIntoRun = createRoute({
  method: "put",
  path: "/runs/{id}/gpx",
  summary: "Replace a run's figures with those of a GPX file",
  request: { params: RunId, body: form(GpxUpload) },
  responses: {
    200: jsonResponse("The updated run", Run),
    413: { description: "File too large", content: problemContent },
    ...errors,
  },
});

const notFound = (id: string) => new MeshError(404, { detail: `run ${id} not found` });

function found<T>(row: T | undefined, id: string): T {
  if (!row) throw notFound(id);
  return row;
}

/** The caller's run inside a write transaction; 404 for anyone else's. */
async function findOwned(tx: Db<Schema>, owner: string, id: string) {
  return found(await ownedRunIn(tx, owner, id), id);
}

export function runsRoutes(
  store: Store<Schema>,
  outbox: Outbox,
  gpxPool: WorkPool<ArrayBuffer, TrackSummary>,
) {
  const app = createRouter();
  const reads = prepareRunReads(store.db);

  /** Stores a new run and its `run.logged` event in one transaction. */
  async function insertRun(row: schema.RunRow, traceparent: string | undefined): Promise<void> {
    await store.write(async (tx) => {
      await addRun(tx).run(row);
      await outbox.emit(tx, runLogged, toEventData(row), { aggregate: row.id, traceparent });
    });
  }

  /** Changes the caller's own run and records `run.updated`, in one transaction; 404 for anyone else's. */
  async function updateOwnedRun(
    owner: string,
    id: string,
    changes: Partial<schema.RunRow>,
    traceparent: string | undefined,
  ): Promise<schema.RunRow> {
    const row = await store.write(async (tx) => {
      await findOwned(tx, owner, id);
      const updated = await tx
        .update(runs)
        .set({ ...changes, updatedAt: new Date().toISOString() })
        .where(eq(runs.id, id))
        .returning()
        .get();
      if (updated) await outbox.emit(tx, runUpdated, toEventData(updated), { aggregate: id, traceparent });
      return updated;
    });
    if (!row) throw notFound(id);
    return row;
  }

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
      source: "manual",
      elevationGainM: null,
      splits: null,
      createdAt: now,
      updatedAt: now,
    };
    await insertRun(row, c.get("mesh").traceparent);
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
    const rows = await reads.page(owner, { kind: q.kind, after: cursor, limit: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    const nextCursor = rows.length > q.limit && last ? encodeCursor(last) : null;
    return c.json({ items: page.map(toRun), nextCursor }, 200);
  });

  app.openapi(getRun, async (c) => {
    const owner = requireUser(c);
    const { id } = c.req.valid("param");
    return c.json(toRun(found(await reads.ownedRun(owner, id), id)), 200);
  });

  app.openapi(updateRun, async (c) => {
    const owner = requireUser(c);
    const { id } = c.req.valid("param");
    const patch = c.req.valid("json");
    const changes = { ...patch, ...(patch.startedAt ? { startedAt: toUtcIso(patch.startedAt) } : {}) };
    const row = await updateOwnedRun(owner, id, changes, c.get("mesh").traceparent);
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

  // On the upload routes' own methods: `app.use` here (every method) beside `GET /runs/:id` made
  // Hono route the whole app with its slower trie router (runs.test.ts, "routing").
  app.on("POST", "/runs/import", gpxBodyLimit);
  app.on("PUT", "/runs/:id/gpx", gpxBodyLimit);

  app.openapi(importRun, async (c) => {
    const owner = requireUser(c);
    const form = c.req.valid("form");
    const track = await readTrack(gpxPool, owner, form.file);
    const now = new Date().toISOString();
    const row: schema.RunRow = {
      id: crypto.randomUUID(),
      owner,
      ...trackColumns(track),
      kind: form.kind ?? "easy",
      notes: form.notes ?? track.name ?? "",
      createdAt: now,
      updatedAt: now,
    };
    await insertRun(row, c.get("mesh").traceparent);
    c.header("location", `/api/runs/runs/${row.id}`);
    return c.json(toRun(row), 201);
  });

  app.openapi(importIntoRun, async (c) => {
    const owner = requireUser(c);
    const { id } = c.req.valid("param");
    // The owner check comes before reading the upload: another runner's id is a 404 either way.
    found(await reads.ownedRun(owner, id), id);
    const form = c.req.valid("form");
    const track = await readTrack(gpxPool, owner, form.file);
    const changes = {
      ...trackColumns(track),
      ...(form.kind ? { kind: form.kind } : {}),
      ...(form.notes !== undefined ? { notes: form.notes } : {}),
    };
    const row = await updateOwnedRun(owner, id, changes, c.get("mesh").traceparent);
    return c.json(toRun(row), 200);
  });

  return app;
}

const MAX_GPX_BODY = MAX_GPX_BYTES + 64 * 1024;

function gpxTooLarge(): never {
  throw new MeshError(413, {
    detail: `body.file: a GPX upload may be at most ${MAX_GPX_BYTES / 1024 / 1024} MiB`,
    errors: [{ path: "body.file", message: "too large" }],
  });
}

const streamingLimit = bodyLimit({ maxSize: MAX_GPX_BODY, onError: gpxTooLarge });

/**
 * 413 for an upload over the limit. hono/body-limit reads the raw stream, but
 * the kit's Idempotency-Key middleware may have read the body into Hono's
 * cache already, leaving that stream spent (reading it threw: a 500). Then
 * the cached bytes are measured instead; otherwise the stream is, so an
 * unread oversized body is never held whole.
 */
const gpxBodyLimit: MiddlewareHandler = async function gpxBodyLimit(c, next) {
  if (!c.req.raw.bodyUsed) return streamingLimit(c, next);
  if ((await c.req.arrayBuffer()).byteLength > MAX_GPX_BODY) gpxTooLarge();
  await next();
};

/**
 * Parses and measures an uploaded GPX file on one of the pool's threads (a
 * 5 MiB file takes about a second of CPU, which must not stall the service's
 * other callers); malformed files are 400 problems naming `body.file`. The
 * pool answers 429 when this runner has an import in progress already, 503
 * when the instance's threads and queue are full, and 504 at the deadline.
 */
async function readTrack(
  pool: WorkPool<ArrayBuffer, TrackSummary>,
  owner: string,
  file: File,
): Promise<TrackSummary> {
  if (file.size > MAX_GPX_BYTES) {
    throw new MeshError(413, {
      detail: "body.file is too large",
      errors: [{ path: "body.file", message: "too large" }],
    });
  }
  const bytes = await file.arrayBuffer();
  try {
    return await pool.run(bytes, { caller: owner, transfer: [bytes] });
  } catch (err) {
    if (!(err instanceof WorkFailed && err.name === "GpxError")) throw err;
    throw new MeshError(400, {
      detail: `body.file is not a usable GPX track: ${err.message}`,
      errors: [{ path: "body.file", message: err.message }],
      type: "https://runnerly.dev/problems/validation",
    });
  }
}

function trackColumns(track: TrackSummary) {
  if (track.distanceM <= 0) {
    throw new MeshError(400, {
      detail: "body.file: the track covers no distance",
      errors: [{ path: "body.file", message: "no distance" }],
    });
  }
  return {
    distanceM: Math.min(track.distanceM, MAX_DISTANCE_M),
    durationS: Math.min(track.movingTimeS, MAX_DURATION_S),
    startedAt: track.startedAt,
    source: "gpx",
    elevationGainM: track.elevationGainM,
    splits: JSON.stringify(track.splits),
  };
}
