/**
 * Revoked sessions: the deny list through which a logout reaches every edge.
 * An access token names its session (the refresh-token family it was issued
 * with) in the `sid` claim. When a session ends (logout, a reused refresh
 * token), the accounts service puts the session id into the NATS KV bucket
 * `revoked_sessions` with the time after which no token of that session can
 * still be valid; every edge watches the bucket and refuses tokens whose
 * `sid` is listed. Entries vanish by the bucket's TTL (the access-token
 * lifetime and a margin), and each edge forgets one at its own `until`.
 */

/** The KV bucket of revoked sessions: key = session id, value = `SessionRevocation` as JSON. */
export const REVOKED_SESSIONS_BUCKET = "revoked_sessions";

/** The access-token claim that names the session (RFC 9068 leaves it open; OpenID uses `sid` the same way). */
export const SESSION_CLAIM = "sid";

/** Added to the access-token lifetime for the bucket's TTL: verifiers' clock tolerance and skew. */
export const REVOCATION_MARGIN_S = 60;

/** One revoked session. */
export type SessionRevocation = {
  /** Unix ms: after this no access token of the session can be valid, so the entry may be forgotten. */
  until: number;
};

/**
 * The stored value of a revocation.
 *
 * @example
 * kv.put(sessionId, encodeRevocation({ until: Date.now() + 960_000 }));
 */
export function encodeRevocation(revocation: SessionRevocation): string {
  return JSON.stringify({ until: revocation.until });
}

/**
 * A stored value read back; null when it is not one (a verifier then keeps
 * the session listed for as long as the bucket does).
 *
 * @example
 * parseRevocation('{"until":1767225600000}'); // { until: 1767225600000 }
 */
export function parseRevocation(text: string): SessionRevocation | null {
  try {
    const { until } = JSON.parse(text) as { until?: unknown };
    return typeof until === "number" && Number.isFinite(until) ? { until } : null;
  } catch {
    return null;
  }
}
