/**
 * What the accounts routes do, without HTTP: sign up, log in, refresh, log
 * out, and the profile. Failures are `MeshError`s with the status to answer.
 */
import { type Logger, MeshError, type Store } from "@runnerly/kit";
import { eq } from "drizzle-orm";
import type { Profile, ProfilePatch, SignupInput, TokenResponse } from "./contract.ts";
import * as schema from "./db/schema.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";
import { issueRefreshToken, revokeSession, rotateRefreshToken } from "./sessions.ts";
import type { AccountsSettings } from "./settings.ts";
import type { KeyRing } from "./signing-keys.ts";
import { signAccessToken } from "./tokens.ts";

type Schema = typeof schema;
const { users } = schema;
type UserRow = schema.UserRow;

// One answer for a wrong password and an unknown email, so neither tells which emails exist.
const badCredentials = () => new MeshError(401, { detail: "Wrong email or password." });
// One answer for every refused refresh token, for the same reason.
const badRefreshToken = () =>
  new MeshError(401, { detail: "The refresh token is not valid (expired, used or revoked); log in again." });

function toProfile(row: UserRow): Profile {
  return {
    id: row.id,
    email: row.email,
    displayName: row.displayName,
    weeklyGoalKm: row.weeklyGoalKm,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

const isUniqueViolation = (err: unknown) => /UNIQUE constraint failed/i.test(String(err));

export class Accounts {
  constructor(
    private readonly store: Store<Schema>,
    private readonly keys: KeyRing,
    private readonly settings: AccountsSettings,
    private readonly logger: Logger,
  ) {}

  /** Creates an account and its first session; 409 when the email is taken. */
  async signup(input: SignupInput): Promise<TokenResponse> {
    // Hashed before the transaction: argon2 takes tens of ms, the write lock should not.
    const passwordHash = await hashPassword(input.password);
    const now = Date.now();
    const row: UserRow = {
      id: crypto.randomUUID(),
      email: input.email,
      passwordHash,
      displayName: input.displayName ?? input.email.split("@")[0]!,
      weeklyGoalKm: null,
      createdAt: now,
      updatedAt: now,
    };
    let refreshToken: string;
    try {
      refreshToken = await this.store.write(async (tx) => {
        await tx.insert(users).values(row).run();
        return issueRefreshToken(tx, row.id, this.settings.refreshTokenTtlS);
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw new MeshError(409, {
        detail: "An account with this email already exists.",
        errors: [{ path: "body.email", message: "already registered" }],
      });
    }
    return this.tokens(row, refreshToken);
  }

  /** Starts a session for a correct email and password; the same 401 otherwise. */
  async login(email: string, password: string): Promise<TokenResponse> {
    const row = await this.store.db.select().from(users).where(eq(users.email, email)).get();
    // verifyPassword does the full work even without a user.
    const ok = await verifyPassword(password, row?.passwordHash ?? null);
    if (!row || !ok) throw badCredentials();
    const refreshToken = await this.store.write((tx) =>
      issueRefreshToken(tx, row.id, this.settings.refreshTokenTtlS),
    );
    return this.tokens(row, refreshToken);
  }

  /** Exchanges a refresh token for new tokens; a reused one ends its whole session. */
  async refresh(presented: string): Promise<TokenResponse> {
    const result = await rotateRefreshToken(this.store, presented, this.settings.refreshTokenTtlS);
    if (!result.ok) {
      if (result.reason === "reused") {
        this.logger.warn(
          { user: result.userId, family: result.familyId },
          "refresh token reused: session revoked",
        );
      }
      throw badRefreshToken();
    }
    const row = await this.user(result.userId);
    return this.tokens(row, result.refreshToken);
  }

  /** Ends the session of a refresh token. Unknown tokens are ignored, so logging out twice is fine. */
  async logout(presented: string): Promise<void> {
    await revokeSession(this.store, presented);
  }

  async profile(userId: string): Promise<Profile> {
    return toProfile(await this.user(userId));
  }

  async updateProfile(userId: string, patch: ProfilePatch): Promise<Profile> {
    const row = await this.store.write((tx) =>
      tx
        .update(users)
        .set({ ...patch, updatedAt: Date.now() })
        .where(eq(users.id, userId))
        .returning()
        .get(),
    );
    if (!row) throw noAccount(userId);
    return toProfile(row);
  }

  private async user(id: string): Promise<UserRow> {
    const row = await this.store.db.select().from(users).where(eq(users.id, id)).get();
    if (!row) throw noAccount(id);
    return row;
  }

  private async tokens(row: UserRow, refreshToken: string): Promise<TokenResponse> {
    const { kid, key } = await this.keys.current();
    const ttlS = this.settings.accessTokenTtlS;
    const accessToken = await signAccessToken({ subject: row.id, kid, key, ttlS });
    return {
      accessToken,
      tokenType: "Bearer",
      expiresIn: ttlS,
      refreshToken,
      user: { id: row.id, email: row.email, displayName: row.displayName },
    };
  }
}

const noAccount = (id: string) => new MeshError(404, { detail: `no account ${id}` });
