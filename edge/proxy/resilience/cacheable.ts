/**
 * What the stale cache may keep and under which key: a response's
 * `Cache-Control` decides whether it may stand in for its service later
 * (RFC 9111, RFC 5861), and the key names who asked, so one caller's copy is
 * never served to another. Web standards only.
 */

// Directives that forbid storing, or serving a stale copy (RFC 9111 §3, §4.2.4).
const FORBIDDEN = ["no-store", "private", "no-cache", "must-revalidate", "proxy-revalidate"] as const;

/**
 * How long a response stays fresh (ms) and how long it may stand in once stale
 * (`stale-if-error`, ms, when given), or null when it must not be kept: only a
 * 200 with `Cache-Control` `max-age`/`s-maxage`/`public`, without
 * `no-store`/`private`/`no-cache`/`must-revalidate`, `Set-Cookie` or `Vary: *`.
 *
 * @example
 * cacheability(200, new Headers({ "cache-control": "public, max-age=60" })); // { freshMs: 60000, staleIfErrorMs: null }
 */
export function cacheability(
  status: number,
  headers: Headers,
): { freshMs: number; staleIfErrorMs: number | null } | null {
  if (status !== 200 || headers.has("set-cookie") || headers.get("vary")?.trim() === "*") return null;
  const directives = parseCacheControl(headers.get("cache-control") ?? "");
  if (FORBIDDEN.some((d) => directives.has(d))) return null;
  const maxAge = seconds(directives.get("s-maxage")) ?? seconds(directives.get("max-age"));
  if (maxAge === null && !directives.has("public")) return null;
  const staleIfError = seconds(directives.get("stale-if-error"));
  return {
    freshMs: (maxAge ?? 0) * 1000,
    staleIfErrorMs: staleIfError === null ? null : staleIfError * 1000,
  };
}

function parseCacheControl(value: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const part of value.split(",")) {
    const [name, arg] = part.split("=", 2);
    const key = name?.trim().toLowerCase();
    if (key) out.set(key, arg?.trim().replace(/^"|"$/g, ""));
  }
  return out;
}

/** A delta-seconds value (RFC 9111 §1.2.2), or null when absent or malformed. */
export function seconds(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value)) return null;
  return Number(value);
}

/**
 * Who a GET is asked for, as part of its cache key: the verified user when the
 * edge knows one, else a hash of the credentials the client sent
 * (`Authorization`, `Cookie`), else `anonymous`.
 *
 * @example
 * await principalOf(req.headers); // "h:6b86b273ff34fce19d6b804eff5a3f57"
 */
export async function principalOf(headers: Headers, user?: string): Promise<string> {
  if (user) return `u:${user}`;
  const auth = headers.get("authorization");
  const cookie = headers.get("cookie");
  if (auth === null && cookie === null) return "anonymous";
  const bytes = new TextEncoder().encode(`${auth ?? ""}\n${cookie ?? ""}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let hex = "";
  for (const b of digest.subarray(0, 16)) hex += b.toString(16).padStart(2, "0");
  return `h:${hex}`;
}

/** The cache key of a request: method, path with query, and who asked. */
export function cacheKey(method: string, target: string, principal: string): string {
  return `${method} ${target} ${principal}`;
}
