/**
 * What the accounts routes do, without HTTP: sign up, log in, refresh, log
 * out, and the profile. Failures are `MeshError`s with the status to answer.
 */
import { type Logger, MeshError, type Store } from "@runnerly/kit";
import { eq } from "drizzle-orm";
import type { Profile, ProfilePatch, SignupAccepted, SignupInput, TokenResponse } from "./contract.ts";
import * as schema from "./db/schema.ts";
import type { DenyList } from "./deny-list.ts";
import type { LoginAttempts } from "./login-attempts.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";
import { type NewSession, revokeSession, rotateRefreshToken, startSession } from "./sessions.ts";
import type { AccountsSettings } from "./settings.ts";
import type { KeyRing } from "./signing-keys.ts";
import { signAccessToken } from "./tokens.ts";

type Schema = typeof schema;
const { users } = schema;
type UserRow = schema.UserRow;

// One answer for a wrong password and an unknown email, so neither tells which emails exist.
const badCredentials = () => new MeshError(401, { detail: "Wrong email or password." });
// One answer while an email or an address is locked, whether the email has an account or not.
const tooManyFailures = (retryAfterS: number) =>
  new MeshError(429, {
    type: "https://runnerly.dev/problems/login-locked",
    detail: `Too many failed log-ins for this email or from this address. Try again in ${retryAfterS} s.`,
    headers: { "retry-after": String(retryAfterS) },
  });
// One answer to every valid sign-up, so it does not tell which emails have accounts.
const SIGNUP_ACCEPTED: SignupAccepted = {
  status: "accepted",
  detail:
    "Log in with this email and password. If the email already had an account, nothing was changed and its owner is told.",
};
// How long a logout waits for the deny list to hold its session before answering 503.
const LOGOUT_CONFIRM_MS = 3_000;
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
    /** Failed log-in limits; null when they are off. */
    private readonly attempts: LoginAttempts | null = null,
    /** The edges' deny list of ended sessions; null: a logout ends only the refresh tokens. */
    private readonly denyList: DenyList | null = null,
  ) {}

  /**
   * Creates an account. The answer is the same when the email is taken (the
   * same work is done: a hash and an insert, refused there by the unique
   * email), so sign-up does not tell who has an account; the owner of a taken
   * email is the one to tell, by email (logged here: there is no mail system).
   */
  async signup(input: SignupInput): Promise<SignupAccepted> {
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
    try {
      await this.store.write((tx) => tx.insert(users).values(row).run());
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const owner = await this.store.db
        .select({ id: users.id })
        .from(users)
        .where(eq(users.email, input.email))
        .get();
      // Where a notice to the owner would be sent ("someone tried to sign up with your email").
      this.logger.info(
        { user: owner?.id, notice: "signup-for-existing-account" },
        "sign-up for a registered email: the owner would be told by email",
      );
    }
    return SIGNUP_ACCEPTED;
  }

  /**
   * Starts a session for a correct email and password; the same 401
   * otherwise, and the same 429 while the email or `address` is locked after
   * failures (then the password is not checked, and the attempt counts for nothing).
   */
  async login(email: string, password: string, address?: string): Promise<TokenResponse> {
    const admission = await this.admit(email, address);
    const row = await this.store.db.select().from(users).where(eq(users.email, email)).get();
    // verifyPassword does the full work even without a user.
    const ok = await verifyPassword(password, row?.passwordHash ?? null);
    if (!row || !ok) throw badCredentials();
    if (admission) await this.attempts?.succeeded(admission.ticket);
    const session = await this.store.write((tx) => startSession(tx, row.id, this.settings.refreshTokenTtlS));
    return this.tokens(row, session);
  }

  /** Counts the attempt, or refuses it with a 429 while one of its keys is locked. */
  private async admit(email: string, address: string | undefined) {
    if (!this.attempts) return null;
    let admission: Awaited<ReturnType<LoginAttempts["admit"]>>;
    try {
      admission = await this.attempts.admit(email, address);
    } catch (err) {
      // Without its counters a guesser would be unlimited: refuse rather than let through.
      this.logger.error({ err: String(err) }, "failed log-in counters unavailable");
      throw new MeshError(503, {
        detail: "Log-ins cannot be checked right now; try again shortly.",
        headers: { "retry-after": "1" },
      });
    }
    if (!admission.admitted) throw tooManyFailures(admission.retryAfterS);
    return admission;
  }

  /** Exchanges a refresh token for new tokens; a reused one ends its whole session. */
  async refresh(presented: string): Promise<TokenResponse> {
    const result = await rotateRefreshToken(this.store, presented, this.settings);
    if (!result.ok) {
      if (result.reason === "reused") {
        this.logger.warn(
          { user: result.userId, family: result.familyId },
          "refresh token reused: session revoked",
        );
        // Recorded with the revocation; stored in the background (the answer is a refusal anyway).
        this.denyList?.wake();
      }
      throw badRefreshToken();
    }
    const row = await this.user(result.userId);
    return this.tokens(row, result);
  }

  /**
   * Ends the session of a refresh token, its access tokens included: the
   * answer comes once the edges' deny list holds the session (a 503 when it
   * could not be stored in time; it is stored later all the same, and a
   * retried logout confirms it). Unknown tokens are ignored, so logging out
   * twice is fine.
   */
  async logout(presented: string): Promise<void> {
    const sessionId = await revokeSession(this.store, presented, this.settings.accessTokenTtlS);
    if (!sessionId || !this.denyList) return;
    if (!(await this.denyList.confirm(sessionId, LOGOUT_CONFIRM_MS))) {
      throw new MeshError(503, {
        detail:
          "The session is ended, but the API gateways have not been told yet, so its access token may still be accepted for a while; retry the logout to confirm.",
        headers: { "retry-after": "1" },
      });
    }
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

  private async tokens(row: UserRow, { refreshToken, sessionId }: NewSession): Promise<TokenResponse> {
    const { kid, key } = await this.keys.current();
    const ttlS = this.settings.accessTokenTtlS;
    const accessToken = await signAccessToken({ subject: row.id, sessionId, kid, key, ttlS });
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
