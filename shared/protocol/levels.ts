/**
 * Declared service levels and API versions on the wire. A service declares
 * its objectives in its contract (`defineService({ slo })`); they travel as
 * ADR-32 service metadata, so any language's service can declare them:
 *
 *   slo.availability   "99.9"   percent of requests answered without a 5xx
 *   slo.latency_p99_ms "300"    the 99th percentile the service promises
 *   slo.rate_limit     "100/60s" requests per window and caller, enforced by the edge
 *
 * A version-aware service also serves its HTTP surface on the endpoint
 * `http-v<major>`, subject `svc.<name>.http.v<major>`, so the edge can send a
 * request to one major version (`Api-Version: 2`) or split traffic between
 * versions (a canary). Web standards only.
 */
import type { Msg } from "@nats-io/nats-core";

/** Service metadata keys of the declared objectives. */
export const SLO_METADATA = {
  availability: "slo.availability",
  latencyP99Ms: "slo.latency_p99_ms",
  rateLimit: "slo.rate_limit",
} as const;

/** What a service promises; every part optional. */
export type ServiceLevels = {
  /** Percent of requests answered without a server error over a window, e.g. 99.9. */
  availability?: number;
  /** 99th-percentile latency in ms that requests stay under. */
  latencyP99Ms?: number;
  /** Requests per window per caller (verified user, else client address): `100/60s`. */
  rateLimit?: { limit: number; windowMs: number };
};

const RATE = /^(\d{1,9})\/(\d{1,5})(s|m|h)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * The metadata entries for declared levels (only those declared).
 *
 * @example
 * levelsMetadata({ availability: 99.9, rateLimit: { limit: 100, windowMs: 60_000 } });
 * // { "slo.availability": "99.9", "slo.rate_limit": "100/60s" }
 */
export function levelsMetadata(levels: ServiceLevels | undefined): Record<string, string> {
  if (!levels) return {};
  const out: Record<string, string> = {};
  if (levels.availability !== undefined) out[SLO_METADATA.availability] = String(levels.availability);
  if (levels.latencyP99Ms !== undefined) out[SLO_METADATA.latencyP99Ms] = String(levels.latencyP99Ms);
  if (levels.rateLimit) out[SLO_METADATA.rateLimit] = formatRate(levels.rateLimit);
  return out;
}

/**
 * Reads declared levels from metadata; a malformed entry is left out (and
 * named in `invalid`), never trusted.
 *
 * @example
 * parseLevels({ "slo.availability": "99.9" }).levels.availability; // 99.9
 */
export function parseLevels(metadata: Record<string, unknown> | undefined): {
  levels: ServiceLevels;
  invalid: string[];
} {
  const levels: ServiceLevels = {};
  const invalid: string[] = [];
  if (!metadata) return { levels, invalid };
  const availability = metadata[SLO_METADATA.availability];
  if (availability !== undefined) {
    const n = Number(availability);
    if (typeof availability === "string" && Number.isFinite(n) && n > 0 && n < 100) levels.availability = n;
    else invalid.push(`${SLO_METADATA.availability} must be a percentage between 0 and 100, exclusive`);
  }
  const latency = metadata[SLO_METADATA.latencyP99Ms];
  if (latency !== undefined) {
    const n = Number(latency);
    if (typeof latency === "string" && Number.isInteger(n) && n > 0 && n <= 600_000) levels.latencyP99Ms = n;
    else invalid.push(`${SLO_METADATA.latencyP99Ms} must be whole milliseconds, 1 to 600000`);
  }
  const rate = metadata[SLO_METADATA.rateLimit];
  if (rate !== undefined) {
    const parsed = typeof rate === "string" ? parseRate(rate) : null;
    if (parsed) levels.rateLimit = parsed;
    else invalid.push(`${SLO_METADATA.rateLimit} must look like 100/60s (requests/window in s, m or h)`);
  }
  return { levels, invalid };
}

/** `100/60s` → `{ limit: 100, windowMs: 60000 }`; null when malformed or out of range (1 s … 24 h). */
export function parseRate(text: string): { limit: number; windowMs: number } | null {
  const m = RATE.exec(text.trim());
  if (!m) return null;
  const limit = Number(m[1]);
  const windowMs = Number(m[2]) * UNIT_MS[m[3] as keyof typeof UNIT_MS];
  if (limit < 1 || windowMs < 1000 || windowMs > 86_400_000) return null;
  return { limit, windowMs };
}

function formatRate(r: { limit: number; windowMs: number }): string {
  return `${r.limit}/${Math.round(r.windowMs / 1000)}s`;
}

/** The ADR-32 endpoint name of a major version's HTTP surface: `http-v2`. */
export function versionedEndpoint(major: number): string {
  return `http-v${major}`;
}

/** The subject of a major version's HTTP surface: `svc.runs.http.v2`. */
export function versionedSubject(service: string, major: number): string {
  return `svc.${service}.http.v${major}`;
}

/** The major of a semver string (`2.1.0` → 2); null when it does not start with a number. */
export function majorOf(version: string): number | null {
  const m = /^v?(\d{1,6})(\.|$)/.exec(version.trim());
  return m ? Number(m[1]) : null;
}

/** The request header a client names the major version it wants with: `Api-Version: 2`. */
export const API_VERSION_HEADER = "api-version";

/** The NATS KV bucket of the edges' canary settings: one key per service, `{"major":2,"percent":10}`. */
export const CANARY_BUCKET = "edge_canary";

/** A service's canary setting: `percent` of its requests go to major version `major`. */
export type Canary = { major: number; percent: number };

/** The direct-get subject of a service's key in the canary bucket. */
export const canaryKeySubject = (bucket: string, service: string) =>
  `$JS.API.DIRECT.GET.KV_${bucket}.$KV.${bucket}.${service}`;

/**
 * Parses a stored setting; null for a deleted key or a value that is not one.
 *
 * @example
 * parseCanary('{"major":2,"percent":10}'); // { major: 2, percent: 10 }
 */
export function parseCanary(text: string): Canary | null {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    const { major, percent } = v;
    if (typeof major !== "number" || !Number.isInteger(major) || major < 0) return null;
    if (typeof percent !== "number" || !(percent >= 0 && percent <= 100)) return null;
    return { major, percent };
  } catch {
    return null;
  }
}

/**
 * The setting in a direct-get reply: null for a missing key (404), a deleted
 * or purged one, or a value that is not a setting.
 *
 * @example
 * canaryFrom(await nc.request(canaryKeySubject(CANARY_BUCKET, "runs"), ""));
 */
export function canaryFrom(m: Pick<Msg, "headers" | "string">): Canary | null {
  const op = m.headers?.get("KV-Operation");
  if ((m.headers?.code ?? 0) >= 400 || op === "DEL" || op === "PURGE") return null;
  return parseCanary(m.string());
}

/**
 * What a kit service puts in each endpoint's `data` of its ADR-32
 * `$SRV.STATS` reply (the edge's dashboard reads it). `outbox` is null for a
 * service that publishes no events; `oldestAgeMs` is null when nothing waits.
 */
export type ServiceStatsData = {
  outbox: { backlog: number; oldestAgeMs: number | null } | null;
  consumers: {
    name: string;
    stream: string;
    /** Events in the stream not yet delivered to it: its lag. */
    pending: number;
    ackPending: number;
    redelivered: number;
    /** Dead-lettered events waiting for an operator. */
    dead: number;
  }[];
  /** Its tasks (docs/protocol.md §10); absent or null for a service that works and submits none. */
  tasks?: TaskStatsData | null;
};

/**
 * The task side of a kit service's `$SRV.STATS` data. Tasks are named
 * `<owner>/<name>` (`stats/report.monthly`) everywhere in it.
 */
export type TaskStatsData = {
  /** The queue of the tasks it works (`TASKS_<NAME>`, shared by its instances); null when it works none. */
  queue: {
    stream: string;
    /** Tasks not yet delivered to any instance. */
    pending: number;
    /** Tasks delivered and not yet acknowledged: being worked, or waiting for a retry. */
    inProgress: number;
    /** Age of the oldest task in the queue; null when it is empty. */
    oldestAgeMs: number | null;
    /** Per task it works: how many are in the queue (waiting or being worked) and the oldest one's age. */
    tasks: { task: string; depth: number; oldestAgeMs: number | null }[];
  } | null;
  /** The tasks it submits (to itself or to other services): the dashboard draws requester → owner. */
  submits: string[];
  /** Tasks it submitted whose result has not come back yet (its store: every instance). */
  sentPending: number;
  /** Results whose callback this instance ran since it started, by task and outcome (done, failed, deadline). */
  results: { task: string; status: string; count: number }[];
};
