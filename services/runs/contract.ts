/**
 * The runs service's public contract: the shapes other services and clients
 * may rely on. This is the only file of this service another service may import.
 */
import { z } from "@hono/zod-openapi";
import { defineEvent } from "@runnerly/kit/events";

export const RUN_KINDS = ["easy", "long", "tempo", "interval", "race", "recovery", "trail", "other"] as const;

/** Longest run accepted: 1,000 km (multi-day ultras included). */
export const MAX_DISTANCE_M = 1_000_000;
/** Longest duration accepted: 14 days. */
export const MAX_DURATION_S = 14 * 24 * 3600;
export const MAX_NOTES = 2000;
export const MAX_PAGE_SIZE = 100;

const distanceM = z
  .number()
  .positive()
  .max(MAX_DISTANCE_M)
  .openapi({ description: "Distance in metres", example: 10000 });
const durationS = z
  .number()
  .int()
  .positive()
  .max(MAX_DURATION_S)
  .openapi({ description: "Moving time in whole seconds", example: 3000 });
const startedAt = z.iso
  .datetime({ offset: true })
  .openapi({ description: "Start time, ISO 8601 with offset", example: "2026-11-20T07:30:00Z" });
const kind = z.enum(RUN_KINDS).openapi({ example: "easy" });
const notes = z.string().max(MAX_NOTES).openapi({ example: "Felt good" });

export const RunInput = z
  .strictObject({ distanceM, durationS, startedAt, kind: kind.default("easy"), notes: notes.default("") })
  .openapi("RunInput");

export const RunPatch = z
  .strictObject({
    distanceM: distanceM.optional(),
    durationS: durationS.optional(),
    startedAt: startedAt.optional(),
    kind: kind.optional(),
    notes: notes.optional(),
  })
  .refine((p) => Object.keys(p).length > 0, { message: "at least one field to change is required" })
  .openapi("RunPatch");

/** Cumulative moving time at a distance into the run (each km, and the end). */
export const Split = z.object({ distanceM: z.number(), elapsedS: z.number() }).openapi("Split");

/** Largest GPX file accepted. */
export const MAX_GPX_BYTES = 5 * 1024 * 1024;

/** A GPX upload: the file, and optionally the kind and notes of the run. */
export const GpxUpload = z
  .object({
    file: z
      .instanceof(File, { message: "expected a file field named file" })
      .openapi({ type: "string", format: "binary", description: "A GPX 1.1 file with timed track points" }),
    kind: kind.optional(),
    notes: notes.optional(),
  })
  .openapi("GpxUpload");

export const Run = z
  .object({
    id: z.string(),
    distanceM: z.number(),
    durationS: z.number().int(),
    startedAt: z.string(),
    kind,
    notes: z.string(),
    /** Seconds per kilometre. */
    paceSPerKm: z.number(),
    source: z.enum(["manual", "gpx"]),
    elevationGainM: z.number().nullable(),
    splits: z.array(Split),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Run");

export const RunPage = z
  .object({ items: z.array(Run), nextCursor: z.string().nullable() })
  .openapi("RunPage");

export const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(20),
  cursor: z.string().max(200).optional(),
  kind: kind.optional(),
});

export const RunId = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });

export type RunInput = z.infer<typeof RunInput>;
export type RunPatch = z.infer<typeof RunPatch>;
export type Run = z.infer<typeof Run>;
export type RunPage = z.infer<typeof RunPage>;
export type Split = z.infer<typeof Split>;
export type GpxUpload = z.infer<typeof GpxUpload>;

// Events: published through the outbox on the EVENTS_RUNS stream.

/** A run as events carry it. */
export const RunEventData = z.object({
  runId: z.string(),
  user: z.string(),
  distanceM: z.number(),
  durationS: z.number().int(),
  startedAt: z.string(),
  kind: z.enum(RUN_KINDS),
  /** Present for runs with a track (added in a compatible way: older events lack it). */
  splits: z.array(Split).optional(),
  elevationGainM: z.number().nullable().optional(),
});
export type RunEventData = z.infer<typeof RunEventData>;

export const runLogged = defineEvent("runs", "run.logged", 1, RunEventData);
export const runUpdated = defineEvent("runs", "run.updated", 1, RunEventData);
export const runDeleted = defineEvent(
  "runs",
  "run.deleted",
  1,
  z.object({ runId: z.string(), user: z.string() }),
);
