/**
 * Reads an ADR-32 `$SRV.INFO` reply as the edge sees it: which instance, and
 * where its HTTP surface lives. The reply may come from any language's micro
 * library, so every field is checked rather than trusted.
 */
import {
  HTTP_ENDPOINT,
  HTTP_INSTANCE_ENDPOINT,
  HTTP_PREFIX_METADATA,
  HTTP_PUBLIC_METADATA,
  instanceSubject,
  majorOf,
  parseLevels,
  type ServiceLevels,
  versionedSubject,
} from "@runnerly/kit/web";

/** One service instance that serves HTTP, as announced in its INFO reply. */
export type Registration = {
  /** ADR-32 instance id (unique per running instance). */
  id: string;
  /** Service name. */
  name: string;
  /** Service version (semver). */
  version: string;
  /** Normalised `http.prefix` metadata: starts with `/`, no trailing `/` (except `/` itself). */
  prefix: string;
  /** Subject of the `http` endpoint. */
  subject: string;
  /** The `http.public` metadata as sent (routes the edge lets through without a caller); "" for none. */
  publicRoutes: string;
  /** The objectives it declares (`slo.*` metadata); malformed entries are left out. */
  levels: ServiceLevels;
  /** The major of its version, when the version is semver-like. */
  major: number | null;
  /** Subject of its `http-v<major>` endpoint, when it serves one: requests for that major go there. */
  versionSubject: string | null;
  /** Subject of its `http-instance` endpoint (`svc.<name>.http.<id>`), when it serves one: the edge then picks it per try. */
  instanceSubject: string | null;
};

/** Why an INFO reply that claims an HTTP surface cannot be routed. */
export type InvalidRegistration = { invalid: string; name: string; id: string };

// ADR-32 names and ids: alphanumerics, dash, underscore.
const NAME = /^[A-Za-z0-9_-]+$/;
// Path segments made of RFC 3986 pchars; no empty segment, no query or fragment.
const PREFIX = /^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/;
// A literal subject: non-empty tokens, no wildcards, no whitespace.
const SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;

/**
 * Turns an INFO reply into a Registration. Returns null for a service without
 * an HTTP surface (no `http` endpoint or no `http.prefix` metadata: an RPC-only
 * service, not an error), and an InvalidRegistration when the surface is
 * declared but malformed, so the caller can log why it is ignored.
 *
 * @example
 * const r = toRegistration(info);
 * if (r && !("invalid" in r)) table.upsert(r);
 */
export function toRegistration(
  info: unknown,
  claims: ClaimPolicy = OWN_PREFIX_ONLY,
): Registration | InvalidRegistration | null {
  if (!isRecord(info)) return null;
  const { id, name, version, metadata, endpoints } = info;
  if (typeof id !== "string" || typeof name !== "string") return null;
  const endpoint = Array.isArray(endpoints)
    ? endpoints.find((e: unknown) => isRecord(e) && e.name === HTTP_ENDPOINT)
    : undefined;
  const rawPrefix = isRecord(metadata) ? metadata[HTTP_PREFIX_METADATA] : undefined;
  if (!isRecord(endpoint) || rawPrefix === undefined) return null;

  const invalid = (why: string): InvalidRegistration => ({ invalid: why, name, id });
  if (!NAME.test(name) || !NAME.test(id)) return invalid("service name or id is not an ADR-32 name");
  if (typeof version !== "string" || version === "") return invalid("version is missing");
  const prefix = typeof rawPrefix === "string" ? normalizePrefix(rawPrefix) : null;
  if (prefix === null) return invalid(`${HTTP_PREFIX_METADATA} ${JSON.stringify(rawPrefix)} is not a path`);
  const subject = endpoint.subject;
  if (typeof subject !== "string" || !SUBJECT.test(subject)) {
    return invalid(
      `the ${HTTP_ENDPOINT} endpoint's subject ${JSON.stringify(subject)} is not a literal subject`,
    );
  }
  const refused = refuseClaim(name, prefix, subject, claims);
  if (refused) return invalid(refused);
  const rawPublic = isRecord(metadata) ? metadata[HTTP_PUBLIC_METADATA] : undefined;
  const major = majorOf(version);
  const versioned =
    major === null || !Array.isArray(endpoints)
      ? undefined
      : endpoints.find((e: unknown) => isRecord(e) && e.name === `${HTTP_ENDPOINT}-v${major}`);
  let versionSubject: string | null = null;
  if (isRecord(versioned) && major !== null) {
    const vs = versioned.subject;
    const expected = versionedSubject(name, major);
    if (typeof vs !== "string" || !SUBJECT.test(vs) || (claims.mode === "own" && vs !== expected))
      return invalid(`its ${HTTP_ENDPOINT}-v${major} endpoint must be on ${expected}, not ${String(vs)}`);
    versionSubject = vs;
  }
  const own = Array.isArray(endpoints)
    ? endpoints.find((e: unknown) => isRecord(e) && e.name === HTTP_INSTANCE_ENDPOINT)
    : undefined;
  let ownSubject: string | null = null;
  if (isRecord(own)) {
    const expected = instanceSubject(name, id);
    // Its own id as the last token, never a version's `v<major>` (an id like `v2` would take that major's traffic).
    if (own.subject !== expected || /^v\d+$/.test(id))
      return invalid(
        `its ${HTTP_INSTANCE_ENDPOINT} endpoint must be on ${expected}, not ${String(own.subject)}`,
      );
    ownSubject = expected;
  }
  return {
    id,
    name,
    version,
    prefix,
    subject,
    publicRoutes: typeof rawPublic === "string" ? rawPublic : "",
    levels: parseLevels(isRecord(metadata) ? metadata : undefined).levels,
    major,
    versionSubject,
    instanceSubject: ownSubject,
  };
}

/**
 * Which prefixes a service may claim. An ADR-32 reply names its service
 * itself, so the edge pins what a name may claim: by default `/api/<name>`
 * and the paths below it, served on `svc.<name>.http` (the only `http`
 * subject a service's NATS user may subscribe to). Otherwise any service
 * could announce `/api/accounts` and receive the log-ins. `grants` adds
 * prefixes for a name (`EDGE_PREFIX_GRANTS=web=/,legacy=/v1/legacy`); `any`
 * turns the pin off (a mesh whose every member is trusted).
 */
export type ClaimPolicy = { mode: "own" | "any"; grants?: Record<string, string[]> };

export const OWN_PREFIX_ONLY: ClaimPolicy = { mode: "own" };

/**
 * Why `name` may not serve `prefix` on `subject` under `claims`; null when it may.
 *
 * @example
 * refuseClaim("runs", "/api/accounts", "svc.runs.http", OWN_PREFIX_ONLY); // "runs may claim only /api/runs …"
 */
export function refuseClaim(
  name: string,
  prefix: string,
  subject: string,
  claims: ClaimPolicy,
): string | null {
  if (claims.mode === "any") return null;
  const own = `svc.${name}.http`;
  if (subject !== own) return `its ${HTTP_ENDPOINT} endpoint must be on ${own}, not ${subject}`;
  const allowed = [`/api/${name}`, ...(claims.grants?.[name] ?? [])];
  if (allowed.some((a) => a === "/" || prefix === a || prefix.startsWith(`${a}/`))) return null;
  return `${name} may claim only ${allowed.join(" or ")} and paths below (not ${prefix}); grant more with EDGE_PREFIX_GRANTS`;
}

/** `/api/runs/` → `/api/runs`; `/` stays `/`; null for anything that is not a clean absolute path. */
export function normalizePrefix(raw: string): string | null {
  const trimmed = raw.trim();
  if (trimmed === "/") return "/";
  const prefix = trimmed.replace(/\/+$/, "");
  if (!PREFIX.test(prefix)) return null;
  if (prefix.split("/").some((segment) => segment === "." || segment === "..")) return null;
  return prefix;
}

/** True for a valid ADR-32 service name (letters, digits, `-`, `_`), safe to put in a `$SRV` subject. */
export function isAdr32Name(name: string): boolean {
  return NAME.test(name);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
