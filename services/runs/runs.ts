/**
 * Runs domain: pure functions with no HTTP, NATS or database imports.
 */
import type { Run, RunEventData, Split } from "./contract.ts";
import type { RunRow } from "./db/schema.ts";

/** Seconds per kilometre, rounded to 0.1 s. */
export function paceSPerKm(distanceM: number, durationS: number): number {
  return Math.round((durationS / (distanceM / 1000)) * 10) / 10;
}

/** Normalises any ISO 8601 time with an offset to UTC `…Z`, so stored text sorts as time. */
export function toUtcIso(value: string): string {
  return new Date(value).toISOString();
}

export function toRun(row: RunRow): Run {
  return {
    id: row.id,
    distanceM: row.distanceM,
    durationS: row.durationS,
    startedAt: row.startedAt,
    kind: row.kind as Run["kind"],
    notes: row.notes,
    paceSPerKm: paceSPerKm(row.distanceM, row.durationS),
    source: row.source === "gpx" ? "gpx" : "manual",
    elevationGainM: row.elevationGainM,
    splits: row.splits ? (JSON.parse(row.splits) as Split[]) : [],
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Position after the last item of a page: runs are listed newest first, ties by id. */
export type Cursor = { startedAt: string; id: string };

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.startedAt, c.id])).toString("base64url");
}

/** Decodes a cursor, or returns null when it is not one this service issued. */
export function decodeCursor(raw: string): Cursor | null {
  try {
    const value = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [startedAt, id] = value;
    if (typeof startedAt !== "string" || typeof id !== "string") return null;
    if (Number.isNaN(Date.parse(startedAt))) return null;
    return { startedAt, id };
  } catch {
    return null;
  }
}

/** The event form of a stored run. */
export function toEventData(row: RunRow): RunEventData {
  return {
    runId: row.id,
    user: row.owner,
    distanceM: row.distanceM,
    durationS: row.durationS,
    startedAt: row.startedAt,
    kind: row.kind as RunEventData["kind"],
    ...(row.splits ? { splits: JSON.parse(row.splits) as Split[], elevationGainM: row.elevationGainM } : {}),
  };
}
