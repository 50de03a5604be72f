import { describe, expect, test } from "bun:test";
import { calculateJwkThumbprint, createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import { TOKEN_ALG, TOKEN_AUDIENCE, TOKEN_ISSUER } from "./contract.ts";
import {
  generateSigningKey,
  hashRefreshToken,
  importPrivateKey,
  newRefreshToken,
  publishedJwk,
  signAccessToken,
} from "./tokens.ts";

describe("signing keys and access tokens", () => {
  test("a key's kid is its RFC 7638 thumbprint and the published JWK has no private part", async () => {
    const k = await generateSigningKey();
    const jwk = publishedJwk(k.kid, k.publicJwk);
    expect(jwk).toEqual({ ...JSON.parse(k.publicJwk), kid: k.kid, alg: "EdDSA", use: "sig" });
    expect(jwk).not.toHaveProperty("d");
    expect(await calculateJwkThumbprint(JSON.parse(k.publicJwk))).toBe(k.kid);
  });

  test("a signed token carries the claims and verifies with the published key", async () => {
    const k = await generateSigningKey();
    const now = Math.floor(Date.now() / 1000);
    const jwt = await signAccessToken({
      subject: "u1",
      sessionId: "family-1",
      kid: k.kid,
      key: await importPrivateKey(k.privateJwk),
      ttlS: 600,
      now,
    });
    const jwks = createLocalJWKSet({ keys: [publishedJwk(k.kid, k.publicJwk)] });
    const { payload } = await jwtVerify(jwt, jwks, {
      algorithms: [TOKEN_ALG],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
    });
    expect(payload).toMatchObject({ sub: "u1", sid: "family-1", iat: now, exp: now + 600 });
    expect(
      decodeJwt(
        await signAccessToken({
          subject: "u1",
          sessionId: "family-1",
          kid: k.kid,
          key: await importPrivateKey(k.privateJwk),
          ttlS: 600,
        }),
      ).jti,
    ).not.toBe(payload.jti);
  });

  test("an expired token is refused", async () => {
    const k = await generateSigningKey();
    const jwt = await signAccessToken({
      subject: "u1",
      sessionId: "family-1",
      kid: k.kid,
      key: await importPrivateKey(k.privateJwk),
      ttlS: 60,
      now: Math.floor(Date.now() / 1000) - 3600,
    });
    const jwks = createLocalJWKSet({ keys: [publishedJwk(k.kid, k.publicJwk)] });
    await expect(jwtVerify(jwt, jwks, { algorithms: [TOKEN_ALG] })).rejects.toThrow(/exp/);
  });
});

describe("refresh tokens", () => {
  test("32 random bytes, base64url; stored as a SHA-256 hex digest", () => {
    const a = newRefreshToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, "base64url")).toHaveLength(32);
    expect(newRefreshToken()).not.toBe(a);
    expect(hashRefreshToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRefreshToken(a)).toBe(hashRefreshToken(a));
  });
});
