/**
 * Who is calling: verifies the `Authorization: Bearer` access token locally
 * against the cached JWKS (jose, with the algorithm, issuer and audience
 * pinned, expiry checked with a small clock tolerance), refuses it when its
 * session (`sid`) has ended (the deny list, revoked-sessions.ts), and names
 * the caller for the service (`Mesh-User` = the token's subject). Routes a
 * service declares public pass without a token; a token that is present must
 * be valid.
 */
import { isPublicRoute, MeshError, SESSION_CLAIM } from "@runnerly/kit/web";
import { errors as joseErrors, jwtVerify } from "jose";
import type { Route } from "../../discovery/route-table.ts";
import type { JwksCache } from "./jwks.ts";

export type AuthOptions = {
  issuer: string;
  audience: string;
  /** Accepted signing algorithms (default EdDSA only). */
  algorithms?: string[];
  clockToleranceS?: number;
  /** Required `typ` header (RFC 9068 access tokens: `at+jwt`); unchecked when absent. */
  typ?: string;
};

export type AuthResult = { user: string | undefined } | { error: MeshError };

const unauthorized = (detail: string) =>
  new MeshError(401, {
    detail,
    type: "https://runnerly.dev/problems/unauthorized",
    headers: { "www-authenticate": 'Bearer realm="runnerly"' },
  });

/** A token that verified: whom it names, in which session, until when, and against which key set. */
type Verified = { user: string; session: string | undefined; expiresAtMs: number; keys: unknown };

/** What the authenticator asks of the deny list: one lookup per request. */
export type SessionDenyList = { has(sessionId: string): boolean };

/**
 * The credentials of an `Authorization` header with the bearer scheme: the
 * scheme in any case, then one or more spaces (RFC 9110 §11.4, §11.1), then
 * a JWS in compact form. The header's own surrounding whitespace is trimmed first.
 */
const BEARER = /^bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/i;

const sessionEnded = () =>
  unauthorized("The session of this access token has ended (logged out or revoked): log in again.");

/** Tokens remembered at most; the oldest are forgotten first. */
const MAX_VERIFIED = 10_000;

/**
 * Authenticates requests for the edge. A token that verified is remembered
 * (the exact string, so the same bytes give the same answer) until it expires
 * or the key set changes: an Ed25519 signature check per request was about a
 * tenth of the edge worker's CPU on an authenticated request (BENCHMARKS.md),
 * and a client sends the same token for its whole lifetime. A key removed
 * from the JWKS stops verifying at the next refresh, as before.
 */
export class Authenticator {
  readonly #verified = new Map<string, Verified>();

  constructor(
    private readonly jwks: JwksCache,
    private readonly options: AuthOptions,
    /** Sessions whose tokens are refused; none: a token is good until it expires. */
    private readonly revoked: SessionDenyList | null = null,
  ) {}

  /**
   * The caller of a request to `route`, or the problem to answer with. The
   * answer is given at once (no promise) when there is no token or the token
   * verified before under the current key set, as for nearly every request.
   *
   * @example
   * const auth = await authenticator.check(req, route, path);
   * if ("error" in auth) return auth.error.toResponse(path);
   */
  check(req: Request, route: Route, path: string): AuthResult | Promise<AuthResult> {
    const header = req.headers.get("authorization");
    if (header === null) {
      if (isPublicRoute(route.publicRoutes, req.method, path) || req.method === "OPTIONS")
        return { user: undefined };
      return { error: unauthorized("This route needs a bearer token: log in at /api/accounts/login.") };
    }
    const match = BEARER.exec(header.trim());
    if (!match) return { error: unauthorized("The Authorization header must be `Bearer <access token>`.") };
    const token = match[1] as string;
    const known = this.#verified.get(token);
    const keys = this.jwks.loadedKey;
    if (known && keys && known.keys === keys && Date.now() < known.expiresAtMs) return this.#caller(known);
    return this.verify(token);
  }

  /** The caller a verified token names, unless its session has ended. */
  #caller(verified: Verified): AuthResult {
    if (verified.session !== undefined && this.revoked?.has(verified.session))
      return { error: sessionEnded() };
    return { user: verified.user };
  }

  async verify(token: string, retried = false): Promise<AuthResult> {
    const getKey = await this.jwks.getKey();
    const known = this.#verified.get(token);
    if (known) {
      if (known.keys === getKey && Date.now() < known.expiresAtMs) return this.#caller(known);
      this.#verified.delete(token);
    }
    if (!getKey) {
      return {
        error: new MeshError(503, {
          detail: "Tokens cannot be checked right now (the accounts service's keys are unavailable).",
          headers: { "retry-after": "1" },
        }),
      };
    }
    try {
      const { payload } = await jwtVerify(token, getKey, {
        algorithms: this.options.algorithms ?? ["EdDSA"],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceS ?? 5,
        requiredClaims: ["sub", "exp"],
        ...(this.options.typ ? { typ: this.options.typ } : {}),
      });
      if (typeof payload.sub !== "string" || payload.sub === "")
        return { error: unauthorized("The token names no subject.") };
      const sid = payload[SESSION_CLAIM];
      const verified: Verified = {
        user: payload.sub,
        session: typeof sid === "string" ? sid : undefined,
        expiresAtMs: (payload.exp ?? 0) * 1000,
        keys: getKey,
      };
      this.#remember(token, verified);
      return this.#caller(verified);
    } catch (err) {
      // A key we don't know yet may be brand new: fetch the keys again once.
      if (err instanceof joseErrors.JWKSNoMatchingKey && !retried) {
        await this.jwks.refetchForUnknownKey();
        return this.verify(token, true);
      }
      return { error: unauthorized(reason(err)) };
    }
  }

  #remember(token: string, verified: Verified): void {
    if (this.#verified.size >= MAX_VERIFIED) {
      const oldest = this.#verified.keys().next().value;
      if (oldest !== undefined) this.#verified.delete(oldest);
    }
    this.#verified.set(token, verified);
  }
}

function reason(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired)
    return "The access token has expired: refresh it at /api/accounts/refresh.";
  if (err instanceof joseErrors.JWTClaimValidationFailed)
    return `The access token is not for this API (${err.claim} check failed).`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return "The access token's algorithm is not accepted.";
  if (err instanceof joseErrors.JWKSNoMatchingKey)
    return "The access token was signed by a key the API does not trust.";
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return "The access token's signature is invalid.";
  return "The access token is invalid.";
}
