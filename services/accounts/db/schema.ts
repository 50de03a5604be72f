/**
 * The accounts service's own tables. Only this service reads or writes them.
 * Times are Unix epoch milliseconds, so expiry checks are integer comparisons.
 */
import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  /** Lower-cased and trimmed at the door, so the unique index is case-insensitive in effect. */
  email: text("email").notNull().unique(),
  /** argon2id PHC string (`$argon2id$v=19$m=…`). */
  passwordHash: text("password_hash").notNull(),
  displayName: text("display_name").notNull(),
  weeklyGoalKm: real("weekly_goal_km"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Refresh tokens, stored only as SHA-256 hashes. Each login starts a family;
 * each refresh marks its token used and adds the next one to the same family.
 */
export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    familyId: text("family_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    /** Set when the token was exchanged; presenting it again revokes its family. */
    usedAt: integer("used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("refresh_tokens_family_idx").on(t.familyId)],
);

/**
 * Ed25519 signing keys. Exactly one key has no `retiredAt`: it signs new
 * tokens (the partial unique index makes the database itself refuse a second).
 * Retired keys stay in the JWKS until `removedAt`, so tokens they signed keep
 * verifying; a retired key's private half is erased because it never signs again.
 */
export const signingKeys = sqliteTable(
  "signing_keys",
  {
    /** RFC 7638 thumbprint of the public key. */
    kid: text("kid").primaryKey(),
    /** Private JWK (JSON); null once the key is retired. */
    privateJwk: text("private_jwk"),
    /** Public JWK (JSON), as published in the JWKS. */
    publicJwk: text("public_jwk").notNull(),
    createdAt: integer("created_at").notNull(),
    /** No longer signs. */
    retiredAt: integer("retired_at"),
    /** No longer in the JWKS. */
    removedAt: integer("removed_at"),
  },
  (t) => [
    uniqueIndex("signing_keys_one_current")
      .on(sql`(${t.retiredAt} is null)`)
      .where(sql`${t.retiredAt} is null`),
  ],
);

/**
 * Ended sessions (refresh-token families) still to be put on the edges' deny
 * list, and those put there until no token of theirs can be valid: written in
 * the transaction that revokes the family, so a revocation is never lost when
 * NATS is away; the deny-list relay stores each in the `revoked_sessions` KV
 * bucket and sets `storedAt`.
 */
export const sessionRevocations = sqliteTable(
  "session_revocations",
  {
    /** The refresh-token family; access tokens carry it as `sid`. */
    familyId: text("family_id").primaryKey(),
    userId: text("user_id").notNull(),
    revokedAt: integer("revoked_at").notNull(),
    /** After this no access token of the session can be valid: the row and the KV entry may go. */
    until: integer("until").notNull(),
    /** Set once the KV bucket acknowledged the entry. */
    storedAt: integer("stored_at"),
  },
  (t) => [index("session_revocations_pending_idx").on(t.storedAt)],
);

export type UserRow = typeof users.$inferSelect;
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;
export type SigningKeyRow = typeof signingKeys.$inferSelect;
export type SessionRevocationRow = typeof sessionRevocations.$inferSelect;
