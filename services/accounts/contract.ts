/**
 * The accounts service's public contract: request and response shapes, the
 * access-token rules a verifier must apply, and the RPC methods (the JWKS and
 * signing-key administration). The only file of this service other services
 * (and the edge) may import.
 */
import { z } from "@hono/zod-openapi";
import { defineRpc } from "@runnerly/kit";

// Access tokens: what the edge checks with jose's jwtVerify.

/** `iss` of every access token. */
export const TOKEN_ISSUER = "runnerly-accounts";
/** `aud` of every access token. */
export const TOKEN_AUDIENCE = "runnerly";
/** The only signing algorithm: Ed25519 (verifiers must pin it, never trust the header's `alg`). */
export const TOKEN_ALG = "EdDSA";
/** Header `typ` of access tokens (RFC 9068), so an ID or other JWT is not taken for one. */
export const ACCESS_TOKEN_TYP = "at+jwt";

/**
 * Password rule: 10 to 128 characters (Unicode code points), using at least
 * two of four classes — lower-case letters, upper-case letters, digits, and
 * anything else (symbols, spaces, other scripts). A long passphrase in
 * lower-case letters and spaces passes; `aaaaaaaaaa` and `1234567890` do not.
 */
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 128;

const CLASSES = [/\p{Ll}/u, /\p{Lu}/u, /\p{Nd}/u, /[^\p{Ll}\p{Lu}\p{Nd}]/u];

/** Why a new password breaks the rule above, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`;
  if (length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`;
  const used = CLASSES.filter((c) => c.test(password)).length;
  if (used < 2) return "must mix at least two of: lower-case, upper-case, digits, other characters";
  return null;
}

/** An email address, trimmed and lower-cased before it is checked or stored. */
export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email())
  .openapi({ example: "ann@example.com" });

const NewPassword = z
  .string()
  .superRefine((pw, ctx) => {
    const problem = passwordProblem(pw);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .openapi({
    description: "10–128 characters mixing at least two character classes",
    example: "correct Horse 7",
  });

const DisplayName = z.string().trim().min(1).max(80).openapi({ example: "Ann" });
const WeeklyGoalKm = z
  .number()
  .positive()
  .max(1000)
  .nullable()
  .openapi({ description: "Weekly distance goal in km, or null for none", example: 40 });

export const SignupInput = z
  .strictObject({ email: Email, password: NewPassword, displayName: DisplayName.optional() })
  .openapi("SignupInput");

// No rule on login (old passwords stay valid), only a bound: 128 code points are at most 256 UTF-16 units.
export const LoginInput = z
  .strictObject({
    email: Email,
    password: z
      .string()
      .min(1)
      .max(PASSWORD_MAX * 2),
  })
  .openapi("LoginInput");

/** Body of `/refresh` and `/logout`. */
export const RefreshInput = z
  .strictObject({ refreshToken: z.string().min(1).max(256) })
  .openapi("RefreshInput");

export const ProfilePatch = z
  .strictObject({ displayName: DisplayName.optional(), weeklyGoalKm: WeeklyGoalKm.optional() })
  .refine((p) => Object.keys(p).length > 0, { message: "at least one field to change is required" })
  .openapi("ProfilePatch");

export const User = z.object({ id: z.uuid(), email: z.string(), displayName: z.string() }).openapi("User");

export const Profile = z
  .object({
    id: z.uuid(),
    email: z.string(),
    displayName: z.string(),
    weeklyGoalKm: z.number().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Profile");

export const TokenResponse = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal("Bearer"),
    /** Seconds until the access token expires. */
    expiresIn: z.number().int(),
    /** Opaque; exchange it once at `/refresh`. Presenting it twice ends the session. */
    refreshToken: z.string(),
    user: User,
  })
  .openapi("TokenResponse");

/**
 * The answer to every valid sign-up, whether the email was new or already had
 * an account (so sign-up does not tell which emails are registered). No
 * tokens: the client logs in next.
 */
export const SignupAccepted = z
  .object({
    status: z.literal("accepted"),
    detail: z.string().openapi({ example: "Log in with this email and password." }),
  })
  .openapi("SignupAccepted");

// Signing keys.

/** A public Ed25519 key as published (RFC 8037). */
export const Jwk = z
  .object({
    kty: z.literal("OKP"),
    crv: z.literal("Ed25519"),
    x: z.string(),
    kid: z.string(),
    alg: z.literal(TOKEN_ALG),
    use: z.literal("sig"),
  })
  .openapi("Jwk");

export const Jwks = z.object({ keys: z.array(Jwk) }).openapi("Jwks");

/** A signing key's lifecycle, for operators. */
export const SigningKey = z.object({
  kid: z.string(),
  createdAt: z.string(),
  retiredAt: z.string().nullable(),
  removedAt: z.string().nullable(),
  /** The key that signs new tokens. */
  current: z.boolean(),
});

/** What the edge (jwks) and operators (the rest) ask accounts for. */
export const accountsRpc = defineRpc("accounts", {
  jwks: { input: z.object({}), output: Jwks, description: "Public keys that verify access tokens" },
  listKeys: { input: z.object({}), output: z.array(SigningKey), description: "Every signing key" },
  rotateKey: {
    input: z.object({}),
    output: SigningKey,
    description: "A new key signs from now on; the old one stays in the JWKS",
  },
  removeKey: {
    input: z.strictObject({ kid: z.string().min(1) }),
    output: SigningKey,
    description: "Drops a retired key from the JWKS (409 for the current key)",
  },
});

export type SignupInput = z.infer<typeof SignupInput>;
export type ProfilePatch = z.infer<typeof ProfilePatch>;
export type User = z.infer<typeof User>;
export type Profile = z.infer<typeof Profile>;
export type TokenResponse = z.infer<typeof TokenResponse>;
export type SignupAccepted = z.infer<typeof SignupAccepted>;
export type Jwk = z.infer<typeof Jwk>;
export type Jwks = z.infer<typeof Jwks>;
export type SigningKey = z.infer<typeof SigningKey>;
