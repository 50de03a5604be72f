/**
 * Sessions as families of rotating refresh tokens. A login starts a family;
 * each refresh uses up its token and adds the next one to the family. A token
 * presented a second time means two parties hold it (the owner and a thief),
 * so the whole family is revoked and both must log in again (OAuth 2.0
 * Security BCP, refresh token rotation). The family id is the session id the
 * access tokens carry (`sid`); revoking a family records it, in the same
 * transaction, for the edges' deny list (deny-list.ts).
 */
import { type Db, REVOCATION_MARGIN_S, type Store } from "@runnerly/kit";
import { and, eq, isNull } from "drizzle-orm";
import * as schema from "./db/schema.ts";
import { hashRefreshToken, newRefreshToken } from "./tokens.ts";

type Schema = typeof schema;
const { refreshTokens, sessionRevocations } = schema;

/** The lifetimes a session's tokens are issued with. */
export type SessionLifetimes = { accessTokenTtlS: number; refreshTokenTtlS: number };

/** A new session: its first refresh token (never stored) and its id (the tokens' `sid`). */
export type NewSession = { refreshToken: string; sessionId: string };

/** Why a presented refresh token was refused. */
export type Refusal = "unknown" | "revoked" | "reused" | "expired";

export type RefreshResult =
  | { ok: true; userId: string; refreshToken: string; sessionId: string }
  | { ok: false; reason: Refusal; userId?: string; familyId?: string };

/**
 * Adds a new refresh token to a family (a new family when `familyId` is
 * omitted) inside the caller's transaction; returns the token, which is
 * never stored.
 */
export async function issueRefreshToken(
  tx: Db<Schema>,
  userId: string,
  ttlS: number,
  familyId: string = crypto.randomUUID(),
): Promise<string> {
  const token = newRefreshToken();
  const now = Date.now();
  await tx
    .insert(refreshTokens)
    .values({
      id: crypto.randomUUID(),
      familyId,
      userId,
      tokenHash: hashRefreshToken(token),
      createdAt: now,
      expiresAt: now + ttlS * 1000,
    })
    .run();
  return token;
}

/**
 * Starts a session (a new family) inside the caller's transaction.
 *
 * @example
 * const { refreshToken, sessionId } = await store.write((tx) => startSession(tx, user.id, ttlS));
 */
export async function startSession(tx: Db<Schema>, userId: string, ttlS: number): Promise<NewSession> {
  const sessionId = crypto.randomUUID();
  return { refreshToken: await issueRefreshToken(tx, userId, ttlS, sessionId), sessionId };
}

/**
 * Revokes a family and records it for the deny list, until no access token
 * issued in it can be valid (their lifetime, and a margin for clock skew).
 */
async function revokeFamily(
  tx: Db<Schema>,
  row: schema.RefreshTokenRow,
  now: number,
  accessTokenTtlS: number,
) {
  await tx
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.familyId, row.familyId), isNull(refreshTokens.revokedAt)))
    .run();
  const until = now + (accessTokenTtlS + REVOCATION_MARGIN_S) * 1000;
  await tx
    .insert(sessionRevocations)
    .values({ familyId: row.familyId, userId: row.userId, revokedAt: now, until })
    .onConflictDoNothing()
    .run();
}

/**
 * Exchanges a refresh token for the next one of its family. A reused token
 * revokes the family; the revocation commits even though the answer is a
 * refusal (which is why this returns a result instead of throwing).
 */
export async function rotateRefreshToken(
  store: Store<Schema>,
  presented: string,
  lifetimes: SessionLifetimes,
): Promise<RefreshResult> {
  const tokenHash = hashRefreshToken(presented);
  return store.write(async (tx): Promise<RefreshResult> => {
    const row = await tx.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash)).get();
    if (!row) return { ok: false, reason: "unknown" };
    const who = { userId: row.userId, familyId: row.familyId };
    const now = Date.now();
    if (row.revokedAt !== null) return { ok: false, reason: "revoked", ...who };
    if (row.usedAt !== null) {
      await revokeFamily(tx, row, now, lifetimes.accessTokenTtlS);
      return { ok: false, reason: "reused", ...who };
    }
    if (row.expiresAt <= now) return { ok: false, reason: "expired", ...who };
    await tx.update(refreshTokens).set({ usedAt: now }).where(eq(refreshTokens.id, row.id)).run();
    const refreshToken = await issueRefreshToken(tx, row.userId, lifetimes.refreshTokenTtlS, row.familyId);
    return { ok: true, userId: row.userId, refreshToken, sessionId: row.familyId };
  });
}

/**
 * Ends the session a refresh token belongs to (its whole family). Returns
 * the session id, also when it had ended before, or null for a token this
 * service never issued.
 */
export async function revokeSession(
  store: Store<Schema>,
  presented: string,
  accessTokenTtlS: number,
): Promise<string | null> {
  const tokenHash = hashRefreshToken(presented);
  return store.write(async (tx) => {
    const row = await tx.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash)).get();
    if (!row) return null;
    await revokeFamily(tx, row, Date.now(), accessTokenTtlS);
    return row.familyId;
  });
}
