/**
 * The accounts service's own settings, read from the same environment as the
 * kit's (a bad value stops start-up with the kit's one-message ConfigError).
 */
import { loadConfig } from "@runnerly/kit";
import { z } from "zod";

const seconds = (max: number) => z.coerce.number().int().min(1).max(max);

export const accountsSettingsSchema = z.object({
  /** Life of an access token: short, because a token cannot be taken back before it expires. */
  ACCESS_TOKEN_TTL_S: seconds(24 * 3600).default(900),
  /** Life of each refresh token (each refresh issues a new one with a fresh life). */
  REFRESH_TOKEN_TTL_S: seconds(365 * 24 * 3600).default(30 * 24 * 3600),
});

export type AccountsSettings = { accessTokenTtlS: number; refreshTokenTtlS: number };

/**
 * Reads the accounts settings from `env`.
 *
 * @example
 * const { accessTokenTtlS } = loadAccountsSettings({ ACCESS_TOKEN_TTL_S: "600" });
 */
export function loadAccountsSettings(env: Record<string, string | undefined>): AccountsSettings {
  const raw = loadConfig(accountsSettingsSchema, env);
  return { accessTokenTtlS: raw.ACCESS_TOKEN_TTL_S, refreshTokenTtlS: raw.REFRESH_TOKEN_TTL_S };
}
