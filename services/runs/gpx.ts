/**
 * GPX import: parse a GPX 1.1 file (fast-xml-parser) and measure its track.
 * Pure functions, no HTTP, NATS or database imports.
 *
 * - distance: haversine between consecutive points (mean Earth radius);
 * - moving time: intervals whose average speed is between 0.5 and 12 m/s
 *   (standing still and GPS jumps don't count);
 * - elevation gain: total ascent, ignoring rises under 2 m (GPS noise);
 * - splits: cumulative distance and moving time at each kilometre, plus the end.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";

export type TrackPoint = { lat: number; lon: number; ele: number | undefined; time: number };
export type Split = { distanceM: number; elapsedS: number };
export type TrackSummary = {
  name: string | undefined;
  startedAt: string;
  distanceM: number;
  movingTimeS: number;
  elapsedS: number;
  elevationGainM: number | null;
  splits: Split[];
  points: number;
};

/** A GPX file we can't use, with a message saying what is wrong. */
export class GpxError extends Error {
  override name = "GpxError";
}

const EARTH_RADIUS_M = 6_371_008.8;
const MIN_MOVING_SPEED = 0.5;
const MAX_SPEED = 12;
const ELEVATION_NOISE_M = 2;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  removeNSPrefix: true,
  // No entity expansion: a GPX file has no business defining entities.
  processEntities: false,
  isArray: (name) => name === "trk" || name === "trkseg" || name === "trkpt",
});

type RawPoint = { "@_lat"?: string; "@_lon"?: string; ele?: unknown; time?: unknown };

type GpxDocument = {
  gpx?: { metadata?: { name?: unknown }; trk?: { name?: unknown; trkseg?: { trkpt?: RawPoint[] }[] }[] };
};

/** The parser refuses some documents the validator passes (nesting past its maxNestedTags, 100): a GpxError too. */
function parseXml(xml: string): GpxDocument {
  try {
    return parser.parse(xml) as GpxDocument;
  } catch (err) {
    throw new GpxError(`not a usable XML document: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Parses GPX text into its track points, in order. */
export function parseGpx(xml: string): { name: string | undefined; points: TrackPoint[] } {
  if (/<!ENTITY/i.test(xml)) throw new GpxError("GPX must not define XML entities");
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new GpxError(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const doc = parseXml(xml);
  if (!doc.gpx) throw new GpxError("no <gpx> root element");
  const points: TrackPoint[] = [];
  for (const trk of doc.gpx.trk ?? []) {
    for (const seg of trk.trkseg ?? []) {
      for (const raw of seg.trkpt ?? []) points.push(toPoint(raw, points.length));
    }
  }
  if (points.length < 2) throw new GpxError("the track needs at least two <trkpt> points");
  for (let i = 1; i < points.length; i++) {
    if ((points[i] as TrackPoint).time < (points[i - 1] as TrackPoint).time) {
      throw new GpxError(`track point ${i + 1} is earlier than the one before it`);
    }
  }
  const rawName = doc.gpx.trk?.[0]?.name ?? doc.gpx.metadata?.name;
  return { name: typeof rawName === "string" ? rawName.slice(0, 200) : undefined, points };
}

function toPoint(raw: RawPoint, index: number): TrackPoint {
  const lat = Number(raw["@_lat"]);
  const lon = Number(raw["@_lon"]);
  if (!Number.isFinite(lat) || lat < -90 || lat > 90 || !Number.isFinite(lon) || lon < -180 || lon > 180) {
    throw new GpxError(`track point ${index + 1} has no valid lat/lon`);
  }
  const time = Date.parse(String(raw.time ?? ""));
  if (!Number.isFinite(time)) throw new GpxError(`track point ${index + 1} has no valid <time>`);
  const ele = raw.ele === undefined ? undefined : Number(raw.ele);
  return { lat, lon, ele: Number.isFinite(ele) ? ele : undefined, time };
}

/** Great-circle distance in metres (haversine). */
export function haversine(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Measures a track: distance, moving time, elevation gain and per-km splits. */
export function summarise(name: string | undefined, points: TrackPoint[]): TrackSummary {
  let distanceM = 0;
  let movingTimeS = 0;
  const splits: Split[] = [];
  let nextKm = 1000;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as TrackPoint;
    const b = points[i] as TrackPoint;
    const d = haversine(a, b);
    const dt = (b.time - a.time) / 1000;
    const speed = dt > 0 ? d / dt : Number.POSITIVE_INFINITY;
    const moving = speed >= MIN_MOVING_SPEED && speed <= MAX_SPEED;
    // Kilometre marks inside this interval, at moving time interpolated along it.
    while (moving && distanceM + d >= nextKm) {
      const f = (nextKm - distanceM) / d;
      splits.push({ distanceM: nextKm, elapsedS: round1(movingTimeS + f * dt) });
      nextKm += 1000;
    }
    distanceM += d;
    if (moving) movingTimeS += dt;
  }
  if (distanceM > (splits.at(-1)?.distanceM ?? 0))
    splits.push({ distanceM: round1(distanceM), elapsedS: round1(movingTimeS) });
  const first = points[0] as TrackPoint;
  const last = points.at(-1) as TrackPoint;
  return {
    name,
    startedAt: new Date(first.time).toISOString(),
    distanceM: round1(distanceM),
    movingTimeS: Math.max(1, Math.round(movingTimeS)),
    elapsedS: Math.round((last.time - first.time) / 1000),
    elevationGainM: elevationGain(points),
    splits,
    points: points.length,
  };
}

/** Total ascent, counting a rise only once it exceeds the noise threshold. */
export function elevationGain(points: TrackPoint[]): number | null {
  const eles = points.map((p) => p.ele).filter((e): e is number => e !== undefined);
  if (eles.length < 2) return null;
  let gain = 0;
  let ref = eles[0] as number;
  for (const e of eles) {
    if (e - ref >= ELEVATION_NOISE_M) {
      gain += e - ref;
      ref = e;
    } else if (e < ref) {
      ref = e;
    }
  }
  return round1(gain);
}

const round1 = (n: number) => Math.round(n * 10) / 10;
