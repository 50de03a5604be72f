/**
 * A realistic GPX 1.1 track for the journey test: laps of a park loop
 * recorded every 5 s at a steady pace, with a rolling climb on each lap,
 * the way a sports watch exports it.
 */

export type SampleTrack = { xml: string; distanceM: number; durationS: number };

const EARTH_M = 6_371_000;
const rad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance in metres (the same formula the runs service measures with). */
function haversine(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const h =
    Math.sin(rad(b.lat - a.lat) / 2) ** 2 +
    Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(rad(b.lon - a.lon) / 2) ** 2;
  return 2 * EARTH_M * Math.asin(Math.sqrt(h));
}

/**
 * About `km` kilometres of laps round a park, starting at `start`, at
 * `paceSPerKm`, sampled every 5 seconds.
 *
 * @example
 * const { xml } = sampleGpx({ start: new Date(Date.now() - 3_600_000), km: 5.4, paceSPerKm: 320 });
 */
export function sampleGpx(options: {
  start: Date;
  km: number;
  paceSPerKm: number;
  name?: string;
}): SampleTrack {
  const center = { lat: 52.3584, lon: 4.8681 }; // Vondelpark, Amsterdam
  const speed = 1000 / options.paceSPerKm;
  // An ellipse of about 290 m by 305 m: a lap is about 1.9 km.
  const radiusM = EARTH_M * rad(0.0026);
  const points: string[] = [];
  let prev: { lat: number; lon: number } | null = null;
  let distanceM = 0;
  let t = 0;
  let angle = 0;
  while (distanceM < options.km * 1000) {
    const lat = center.lat + 0.0026 * Math.sin(angle);
    const lon = center.lon + 0.0045 * Math.cos(angle);
    if (prev) distanceM += haversine(prev, { lat, lon });
    const ele = 4 + 3 * Math.sin(angle * 2) + 1.5 * Math.sin(angle * 5);
    const time = new Date(options.start.getTime() + t * 1000).toISOString();
    points.push(
      `      <trkpt lat="${lat.toFixed(7)}" lon="${lon.toFixed(7)}"><ele>${ele.toFixed(1)}</ele><time>${time}</time></trkpt>`,
    );
    prev = { lat, lon };
    t += 5;
    // The next point is 5 s of running further round the loop.
    angle += (speed * 5) / radiusM;
  }
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="Runnerly journey test" xmlns="http://www.topografix.com/GPX/1/1">
  <metadata><time>${options.start.toISOString()}</time></metadata>
  <trk>
    <name>${options.name ?? "Park laps"}</name>
    <type>running</type>
    <trkseg>
${points.join("\n")}
    </trkseg>
  </trk>
</gpx>
`;
  return { xml, distanceM, durationS: t - 5 };
}
