/**
 * Rate-limit policies: what `EDGE_RATE_LIMITS` says, which policy a path
 * falls under, and how a policy is advertised in the `RateLimit-Policy` and
 * `RateLimit` fields of draft-ietf-httpapi-ratelimit-headers (-09/-10: a
 * Structured Fields list of quoted policy names with `q`/`w` and `r`/`t`
 * parameters). Web standards only.
 */

/** One quota: `limit` requests per `windowMs`, as a token bucket refilling at `limit / windowMs`. */
export type RatePolicy = {
  /** The name clients see in the headers: `default`, or the path prefix it covers. */
  name: string;
  /** Path prefix the policy covers (`/api/accounts/login`); null for the default policy. */
  prefix: string | null;
  /** Requests per window (the bucket's size, the field's `q`). */
  limit: number;
  /** The window in ms (whole seconds, the field's `w`). */
  windowMs: number;
};

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;
const MAX_WINDOW_MS = 24 * 3_600_000;
const MAX_LIMIT = 1_000_000_000;

/**
 * Parses `default=100/60s; /api/accounts/login=5/60s` into policies: entries
 * separated by `;`, each `<group>=<requests>/<window>`, the group `default`
 * or a path prefix starting with `/`, the window a whole number of `s`, `m`
 * or `h` (1 s … 24 h). Empty or `off` is no policy. Throws a RangeError
 * naming the bad entry.
 *
 * @example
 * parseRateLimits("default=100/60s; /api/accounts/login=5/1m");
 * // [{ name: "default", prefix: null, limit: 100, windowMs: 60000 }, { name: "/api/accounts/login", … }]
 */
export function parseRateLimits(text: string): RatePolicy[] {
  const trimmed = text.trim();
  if (trimmed === "" || trimmed === "off") return [];
  const out: RatePolicy[] = [];
  for (const part of trimmed.split(";").map((p) => p.trim())) {
    if (part === "") continue;
    const m = /^(default|\/[^\s=?#;]*)=(\d+)\/(\d+)(s|m|h)$/.exec(part);
    const limit = Number(m?.[2]);
    const windowMs = Number(m?.[3]) * UNIT_MS[(m?.[4] ?? "s") as keyof typeof UNIT_MS];
    if (!m?.[1] || !(limit >= 1 && limit <= MAX_LIMIT) || !(windowMs >= 1000 && windowMs <= MAX_WINDOW_MS)) {
      throw new RangeError(
        `must be "<group>=<requests>/<window>" entries separated by ";" (group: default or a /path prefix; window: 1s..24h like 60s, 5m, 1h); bad: ${part}`,
      );
    }
    const prefix = m[1] === "default" ? null : trimSlash(m[1]);
    const name = prefix ?? "default";
    if (out.some((p) => p.name === name)) throw new RangeError(`names the group ${name} twice`);
    out.push({ name, prefix, limit, windowMs });
  }
  return out;
}

/**
 * The policy covering `path`: the longest prefix that matches whole path
 * segments (`/api/runs` covers `/api/runs/7`, not `/api/runsx`), else the
 * default policy, else null (the path is not limited).
 *
 * @example
 * policyFor("/api/accounts/login", policies)?.name; // "/api/accounts/login"
 */
export function policyFor(path: string, policies: readonly RatePolicy[]): RatePolicy | null {
  let best: RatePolicy | null = null;
  for (const p of policies) {
    if (p.prefix === null) {
      best ??= p;
      continue;
    }
    const matches = p.prefix === "/" || path === p.prefix || path.startsWith(`${p.prefix}/`);
    if (matches && (best?.prefix == null || p.prefix.length > best.prefix.length)) best = p;
  }
  return best;
}

/**
 * The `RateLimit-Policy` field value of a policy: `"default";q=100;w=60`.
 *
 * @example
 * response.headers.set("RateLimit-Policy", policyField(policy));
 */
export function policyField(p: RatePolicy): string {
  return `${sfString(p.name)};q=${p.limit};w=${Math.round(p.windowMs / 1000)}`;
}

/**
 * The `RateLimit` field value: the requests left (`r`) and the seconds until
 * the quota is whole again (`t`): `"default";r=42;t=17`.
 *
 * @example
 * response.headers.set("RateLimit", rateLimitField(policy, 42, 17));
 */
export function rateLimitField(p: RatePolicy, remaining: number, resetSeconds: number): string {
  return `${sfString(p.name)};r=${Math.max(0, Math.floor(remaining))};t=${Math.max(0, Math.ceil(resetSeconds))}`;
}

/** A Structured Fields string (RFC 8941 §3.3.3): printable ASCII, `"` and `\` escaped. */
function sfString(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, "?").replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function trimSlash(prefix: string): string {
  return prefix.length > 1 && prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
}
