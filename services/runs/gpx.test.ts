import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { type RunningService, silentLogger, startService } from "@runnerly/kit";
import { meshFetch, NatsServer } from "@runnerly/kit/testing";
import type { Run } from "./contract.ts";
import { elevationGain, GpxError, haversine, parseGpx, summarise } from "./gpx.ts";
import { service } from "./service.ts";

/**
 * A track as a Garmin device exports it (namespaces, metadata, extensions with
 * heart rate and cadence): laps of an oval at a steady 5:00/km with a hill.
 */
function garminGpx(options: { laps?: number; pauseAtS?: number; pauseForS?: number } = {}) {
  const laps = options.laps ?? 3;
  const center = { lat: 51.5007, lon: -0.1246 };
  const pointsPerLap = 120;
  const lines: string[] = [];
  const start = Date.parse("2026-11-21T08:00:00Z");
  let t = 0;
  const coords: { lat: number; lon: number; ele: number; t: number }[] = [];
  for (let i = 0; i <= laps * pointsPerLap; i++) {
    const a = (2 * Math.PI * i) / pointsPerLap;
    const lat = center.lat + 0.004 * Math.sin(a);
    const lon = center.lon + 0.007 * Math.cos(a);
    const ele = 20 + 10 * Math.sin(a);
    const prev = coords.at(-1);
    if (prev) t += haversine(prev, { lat, lon }) / (1000 / 300);
    if (options.pauseAtS !== undefined && prev && prev.t < options.pauseAtS && t >= options.pauseAtS) {
      // Standing at a crossing: the watch keeps recording the same spot.
      for (let k = 1; k <= (options.pauseForS ?? 0) / 5; k++) coords.push({ ...prev, t: prev.t + k * 5 });
      t += options.pauseForS ?? 0;
    }
    coords.push({ lat, lon, ele, t });
  }
  for (const c of coords) {
    lines.push(
      `      <trkpt lat="${c.lat.toFixed(7)}" lon="${c.lon.toFixed(7)}"><ele>${c.ele.toFixed(1)}</ele><time>${new Date(start + c.t * 1000).toISOString()}</time><extensions><ns3:TrackPointExtension><ns3:hr>150</ns3:hr><ns3:cad>86</ns3:cad></ns3:TrackPointExtension></extensions></trkpt>`,
    );
  }
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<gpx creator="Garmin Connect" version="1.1" xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/11.xsd" xmlns:ns3="http://www.garmin.com/xmlschemas/TrackPointExtension/v1" xmlns="http://www.topografix.com/GPX/1/1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <metadata><link href="connect.garmin.com"><text>Garmin Connect</text></link><time>2026-11-21T08:00:00.000Z</time></metadata>
  <trk>
    <name>Morning Run</name>
    <type>running</type>
    <trkseg>
${lines.join("\n")}
    </trkseg>
  </trk>
</gpx>`;
  return { xml, coords };
}

/** Well-formed XML, nested 1000 deep. */
const deeplyNested = `<gpx>${"<a>".repeat(1000)}${"</a>".repeat(1000)}</gpx>`;

/** An independent reference: chord lengths between points on the WGS84 ellipsoid (ECEF). */
function ecefDistance(coords: { lat: number; lon: number; ele: number }[]): number {
  const a = 6_378_137;
  const e2 = 6.69437999014e-3;
  const ecef = (c: { lat: number; lon: number; ele: number }) => {
    const lat = (c.lat * Math.PI) / 180;
    const lon = (c.lon * Math.PI) / 180;
    const n = a / Math.sqrt(1 - e2 * Math.sin(lat) ** 2);
    return [
      (n + c.ele) * Math.cos(lat) * Math.cos(lon),
      (n + c.ele) * Math.cos(lat) * Math.sin(lon),
      (n * (1 - e2) + c.ele) * Math.sin(lat),
    ];
  };
  let total = 0;
  for (let i = 1; i < coords.length; i++) {
    const p = ecef(coords[i - 1]!);
    const q = ecef(coords[i]!);
    total += Math.hypot(p[0]! - q[0]!, p[1]! - q[1]!, p[2]! - q[2]!);
  }
  return total;
}

describe("GPX measurements", () => {
  test("distance is within 1 % of an independent reference; splits every km", () => {
    const { xml, coords } = garminGpx();
    const { name, points } = parseGpx(xml);
    const s = summarise(name, points);
    const reference = ecefDistance(coords);
    expect(Math.abs(s.distanceM - reference) / reference).toBeLessThan(0.01);
    expect(s.name).toBe("Morning Run");
    expect(s.startedAt).toBe("2026-11-21T08:00:00.000Z");
    expect(s.splits.filter((x) => x.distanceM % 1000 === 0)).toHaveLength(Math.floor(s.distanceM / 1000));
    // A steady 5:00/km: each km split close to 300 s.
    const first = s.splits[0]!;
    expect(first.elapsedS).toBeGreaterThan(295);
    expect(first.elapsedS).toBeLessThan(305);
    expect(s.movingTimeS).toBeCloseTo((s.distanceM / 1000) * 300, -1);
  });

  test("a pause does not count as moving time", () => {
    const { xml } = garminGpx({ pauseAtS: 600, pauseForS: 120 });
    const s = summarise(undefined, parseGpx(xml).points);
    expect(s.elapsedS - s.movingTimeS).toBeGreaterThan(115);
  });

  test("elevation gain counts climbs, not noise", () => {
    const pts = [20, 21, 20.5, 21, 25, 24, 30, 29.5, 30.5].map((ele, i) => ({
      lat: 0,
      lon: 0,
      ele,
      time: i,
    }));
    // 20 → 25 and 24 → 30; the 1 m wobbles don't count.
    expect(elevationGain(pts)).toBe(11);
    const { xml } = garminGpx({ laps: 2 });
    // Each lap climbs from 10 m to 30 m: 20 m per lap, minus the noise threshold at most.
    expect(elevationGain(parseGpx(xml).points)).toBeGreaterThan(35);
  });

  const bad: [string, string, RegExp][] = [
    ["not XML", "this is not xml", /not well-formed|gpx/i],
    ["broken XML", "<gpx><trk><trkseg><trkpt lat='1' lon='2'></trkseg></gpx>", /not well-formed/],
    ["no gpx root", "<kml></kml>", /no <gpx> root/],
    [
      "one point",
      `<gpx><trk><trkseg><trkpt lat="1" lon="1"><time>2026-01-01T00:00:00Z</time></trkpt></trkseg></trk></gpx>`,
      /at least two/,
    ],
    [
      "no times",
      `<gpx><trk><trkseg><trkpt lat="1" lon="1"/><trkpt lat="1.1" lon="1"/></trkseg></trk></gpx>`,
      /<time>/,
    ],
    [
      "bad latitude",
      `<gpx><trk><trkseg><trkpt lat="91" lon="1"><time>2026-01-01T00:00:00Z</time></trkpt><trkpt lat="1" lon="1"><time>2026-01-01T00:00:01Z</time></trkpt></trkseg></trk></gpx>`,
      /lat\/lon/,
    ],
    ["entities", `<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaa">]><gpx>&a;</gpx>`, /entities/],
    [
      "time going back",
      `<gpx><trk><trkseg><trkpt lat="1" lon="1"><time>2026-01-01T00:00:05Z</time></trkpt><trkpt lat="1.1" lon="1"><time>2026-01-01T00:00:01Z</time></trkpt></trkseg></trk></gpx>`,
      /earlier/,
    ],
  ];
  for (const [label, xml, message] of bad) {
    test(`refuses ${label}`, () => expect(() => parseGpx(xml)).toThrow(message));
  }

  // Found by tests/property: well-formed XML nested past fast-xml-parser's maxNestedTags (100)
  // passes the validator, then the parser threw a plain Error, which the import route made a 500.
  test("refuses XML nested deeper than the parser allows, as a GpxError", () => {
    expect(() => parseGpx(deeplyNested)).toThrow(GpxError);
    expect(() => parseGpx(deeplyNested)).toThrow(/nested/);
  });
});

describe("import routes", () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let runs: RunningService<Record<string, unknown>>;

  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await connect({ servers: nats.url });
    const env = { NATS_URL: nats.url, DATA_DIR: mkdtempSync(join(tmpdir(), "gpx-")), LOG_LEVEL: "silent" };
    runs = (await startService(service, { env, logger: silentLogger })) as never;
  });
  afterAll(async () => {
    await runs?.stop();
    await nc?.close();
    await nats?.stop();
  });

  /** A multipart form's bytes and its Content-Type (with the boundary). */
  async function form(parts: Record<string, string | Blob>) {
    const body = new FormData();
    for (const [k, v] of Object.entries(parts)) body.append(k, v);
    const req = new Request("http://x", { method: "POST", body });
    // Read the boundary before the body: Bun drops the header once the body is consumed.
    const contentType = req.headers.get("content-type")!;
    return { contentType, bytes: new Uint8Array(await req.arrayBuffer()) };
  }

  /** Sends a multipart form over NATS exactly as the edge would forward it. */
  async function upload(path: string, user: string, parts: Record<string, string | Blob>, method = "POST") {
    const { contentType, bytes } = await form(parts);
    return meshFetch(nc, "runs", `/api/runs${path}`, {
      method,
      user,
      body: bytes,
      headers: { "content-type": contentType },
    });
  }
  const gpxFile = (xml: string) => new File([xml], "run.gpx", { type: "application/gpx+xml" });
  /** A run of `user`'s, entered by hand; its id. */
  async function createRun(user: string): Promise<string> {
    const created = await meshFetch(nc, "runs", "/api/runs/runs", {
      method: "POST",
      user,
      json: { distanceM: 1000, durationS: 400, startedAt: "2026-11-01T07:00:00Z" },
    });
    return ((await created.json()) as Run).id;
  }

  test("imports a run with distance, moving time, elevation and splits", async () => {
    const { xml, coords } = garminGpx();
    const res = await upload("/runs/import", "importer", { file: gpxFile(xml), kind: "long" });
    expect(res.status).toBe(201);
    const run = (await res.json()) as Run;
    expect(run.source).toBe("gpx");
    expect(run.kind).toBe("long");
    expect(run.notes).toBe("Morning Run");
    expect(Math.abs(run.distanceM - ecefDistance(coords)) / ecefDistance(coords)).toBeLessThan(0.01);
    expect(run.splits.length).toBeGreaterThan(3);
    expect(run.elevationGainM).toBeGreaterThan(50);
    expect(run.startedAt).toBe("2026-11-21T08:00:00.000Z");
  });

  test("malformed GPX, a missing file and a wrong field type are 400 problems naming body.file", async () => {
    for (const parts of [
      { file: gpxFile("<gpx><oops></gpx>") },
      {},
      { file: "just text" },
      { file: gpxFile(deeplyNested) },
    ]) {
      const res = await upload("/runs/import", "importer", parts as Record<string, string | Blob>);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(JSON.stringify(await res.json())).toContain("body.file");
    }
  });

  test("an oversized file is a 413 problem", async () => {
    const res = await upload("/runs/import", "importer", {
      file: gpxFile(`<gpx>${" ".repeat(5 * 1024 * 1024 + 10)}</gpx>`),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  test("an oversized file put into a run is a 413 problem too", async () => {
    const id = await createRun("importer");
    const res = await upload(
      `/runs/${id}/gpx`,
      "importer",
      { file: gpxFile(`<gpx>${" ".repeat(5 * 1024 * 1024 + 10)}</gpx>`) },
      "PUT",
    );
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  // Found by tests/property: the kit's Idempotency-Key middleware reads the body first, and
  // hono/body-limit then read the spent stream and threw, so every keyed import was a 500.
  test("an import with an Idempotency-Key runs once and is replayed; oversized is still a 413", async () => {
    const { contentType, bytes } = await form({ file: gpxFile(garminGpx({ laps: 1 }).xml) });
    const send = (body: Uint8Array, key: string) =>
      meshFetch(nc, "runs", "/api/runs/runs/import", {
        method: "POST",
        user: "keyed",
        body,
        headers: { "content-type": contentType, "idempotency-key": key },
      });
    const first = await send(bytes, "gpx-1");
    expect(first.status).toBe(201);
    const again = await send(bytes, "gpx-1");
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(((await again.json()) as Run).id).toBe(((await first.json()) as Run).id);

    const big = await form({ file: gpxFile(`<gpx>${" ".repeat(5 * 1024 * 1024 + 10)}</gpx>`) });
    const tooLarge = await meshFetch(nc, "runs", "/api/runs/runs/import", {
      method: "POST",
      user: "keyed",
      body: big.bytes,
      headers: { "content-type": big.contentType, "idempotency-key": "gpx-2" },
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get("content-type")).toBe("application/problem+json");
  });

  test("imports into the caller's own run, and another runner's run is a 404", async () => {
    const id = await createRun("owner");
    const { xml } = garminGpx({ laps: 1 });
    expect((await upload(`/runs/${id}/gpx`, "intruder", { file: gpxFile(xml) }, "PUT")).status).toBe(404);
    const mine = await upload(`/runs/${id}/gpx`, "owner", { file: gpxFile(xml) }, "PUT");
    expect(mine.status).toBe(200);
    const run = (await mine.json()) as Run;
    expect(run.source).toBe("gpx");
    expect(run.distanceM).toBeGreaterThan(1000);
  });
});
