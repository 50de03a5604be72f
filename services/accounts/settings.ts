/**
 * The accounts service's own settings, read from the same environment as the
 * kit's (a bad value stops start-up with the kit's one-message ConfigError).
 */
import { loadConfig } from "@runnerly/kit";
import { z } from "zod";
import type { LoginLimits } from "./login-limits.ts";

const seconds = (max: number) => z.coerce.number().int().min(1).max(max);
const count = z.coerce.number().int().min(1).max(1_000_000);

/** How long a failure counter is kept at most (the KV bucket's TTL): the longest LOGIN_FAILURE_WINDOW_S. */
export const MAX_FAILURE_WINDOW_S = 24 * 3600;

export const accountsSettingsSchema = z
  .object({
    /**
     * Life of an access token: short, since the edges check only its signature and the deny list of
     * ended sessions, which keeps a logged-out session this long (and a minute more) too.
     */
    ACCESS_TOKEN_TTL_S: seconds(24 * 3600).default(900),
    /** Life of each refresh token (each refresh issues a new one with a fresh life). */
    REFRESH_TOKEN_TTL_S: seconds(365 * 24 * 3600).default(30 * 24 * 3600),
    /** Failed log-in limits: `on` (default) or `off`. */
    LOGIN_LIMITS: z.enum(["on", "off"]).default("on"),
    /** Failures of one email from one address before each further one locks that pair. */
    LOGIN_FREE_FAILURES: count.default(5),
    /** Failures from one address, whatever the emails (password spraying), before locks. */
    LOGIN_ADDRESS_FREE_FAILURES: count.default(100),
    /** Failures of one email, from every address (a distributed attack), before locks. */
    LOGIN_ACCOUNT_FREE_FAILURES: count.default(50),
    /** The first lock; each further failure doubles it. */
    LOGIN_LOCK_BASE_S: seconds(3600).default(1),
    /** Longest lock of an (email, address) pair and of an address. */
    LOGIN_LOCK_MAX_S: seconds(MAX_FAILURE_WINDOW_S).default(900),
    /** Longest lock of an email from every address: short, so its owner is slowed, never shut out for long. */
    LOGIN_ACCOUNT_LOCK_MAX_S: seconds(MAX_FAILURE_WINDOW_S).default(60),
    /** A counter is forgotten this long after its last failure. */
    LOGIN_FAILURE_WINDOW_S: seconds(MAX_FAILURE_WINDOW_S).default(3600),
  })
  .refine((s) => s.LOGIN_FAILURE_WINDOW_S >= Math.max(s.LOGIN_LOCK_MAX_S, s.LOGIN_ACCOUNT_LOCK_MAX_S), {
    path: ["LOGIN_FAILURE_WINDOW_S"],
    message:
      "must be at least LOGIN_LOCK_MAX_S and LOGIN_ACCOUNT_LOCK_MAX_S (a counter must outlive its lock)",
  });

export type AccountsSettings = {
  accessTokenTtlS: number;
  refreshTokenTtlS: number;
  /** Null when LOGIN_LIMITS=off. */
  loginLimits: LoginLimits | null;
};

/**
 * Reads the accounts settings from `env`.
 *
 * @example
 * const { accessTokenTtlS } = loadAccountsSettings({ ACCESS_TOKEN_TTL_S: "600" });
 */
export function loadAccountsSettings(env: Record<string, string | undefined>): AccountsSettings {
  const raw = loadConfig(accountsSettingsSchema, env);
  const ms = (s: number) => s * 1000;
  const lock = (free: number, maxS: number) => ({ free, baseMs: ms(raw.LOGIN_LOCK_BASE_S), maxMs: ms(maxS) });
  return {
    accessTokenTtlS: raw.ACCESS_TOKEN_TTL_S,
    refreshTokenTtlS: raw.REFRESH_TOKEN_TTL_S,
    loginLimits:
      raw.LOGIN_LIMITS === "off"
        ? null
        : {
            pair: lock(raw.LOGIN_FREE_FAILURES, raw.LOGIN_LOCK_MAX_S),
            address: lock(raw.LOGIN_ADDRESS_FREE_FAILURES, raw.LOGIN_LOCK_MAX_S),
            account: lock(raw.LOGIN_ACCOUNT_FREE_FAILURES, raw.LOGIN_ACCOUNT_LOCK_MAX_S),
            windowMs: ms(raw.LOGIN_FAILURE_WINDOW_S),
          },
  };
}
