/**
 * The GPX import's worker thread: parses and measures one uploaded file off
 * the service's event loop (routes.ts runs it through a WorkPool).
 */
import { serveWork } from "@runnerly/kit/work";
import { parseGpx, summarise, type TrackSummary } from "./gpx.ts";

serveWork((bytes: ArrayBuffer): TrackSummary => {
  const { name, points } = parseGpx(new TextDecoder().decode(bytes));
  return summarise(name, points);
});
