/**
 * Tokens: Ed25519 key pairs, signed access tokens (JWT) and opaque refresh
 * tokens. Pure of HTTP, NATS and the database.
 */
import { createHash, randomBytes } from "node:crypto";
import { SESSION_CLAIM } from "@runnerly/kit/web";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from "jose";
import { ACCESS_TOKEN_TYP, type Jwk, TOKEN_ALG, TOKEN_AUDIENCE, TOKEN_ISSUER } from "./contract.ts";

/** A fresh signing key: its id, and both halves as JSON text for the store. */
export type NewSigningKey = { kid: string; privateJwk: string; publicJwk: string };

/**
 * Generates an Ed25519 key pair; its `kid` is the RFC 7638 thumbprint of the
 * public key, so the id is derived from the key and never collides by chance.
 *
 * @example
 * const { kid, privateJwk, publicJwk } = await generateSigningKey();
 */
export async function generateSigningKey(): Promise<NewSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALG, { crv: "Ed25519", extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub, "sha256");
  return { kid, privateJwk: JSON.stringify(await exportJWK(privateKey)), publicJwk: JSON.stringify(pub) };
}

/** A stored private JWK as a signing key. */
export async function importPrivateKey(privateJwk: string): Promise<CryptoKey> {
  return (await importJWK(JSON.parse(privateJwk) as JWK, TOKEN_ALG)) as CryptoKey;
}

/** A stored public JWK as it is published in the JWKS. */
export function publishedJwk(kid: string, publicJwk: string): Jwk {
  const { kty, crv, x } = JSON.parse(publicJwk) as { kty: "OKP"; crv: "Ed25519"; x: string };
  return { kty, crv, x, kid, alg: TOKEN_ALG, use: "sig" };
}

export type AccessTokenOptions = {
  /** The user id. */
  subject: string;
  /** The session (refresh-token family) the token is issued in: its `sid` claim, which a logout revokes. */
  sessionId: string;
  kid: string;
  key: CryptoKey;
  ttlS: number;
  /** Unix seconds of issue (default now). */
  now?: number;
};

/**
 * Signs an access token: `iss`, `aud`, `sub`, `sid`, `iat`, `exp`, `jti`;
 * header `alg: EdDSA`, `typ: at+jwt` and the signing key's `kid`.
 *
 * @example
 * const jwt = await signAccessToken({ subject: user.id, sessionId: familyId, kid, key, ttlS: 900 });
 */
export function signAccessToken(options: AccessTokenOptions): Promise<string> {
  const iat = options.now ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ [SESSION_CLAIM]: options.sessionId })
    .setProtectedHeader({ alg: TOKEN_ALG, typ: ACCESS_TOKEN_TYP, kid: options.kid })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(options.subject)
    .setIssuedAt(iat)
    .setExpirationTime(iat + options.ttlS)
    .setJti(crypto.randomUUID())
    .sign(options.key);
}

/** A new refresh token: 32 random bytes, base64url (43 characters). */
export function newRefreshToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * What is stored of a refresh token: its SHA-256, hex. A plain hash suffices
 * (no salt or slow hash) because the token is 256 random bits, not a guessable secret.
 */
export function hashRefreshToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
