import { expect, test } from "bun:test";
import { ConfigError } from "@runnerly/kit";
import { loadAccountsSettings } from "./settings.ts";

const problemKeys = (env: Record<string, string>) => {
  try {
    loadAccountsSettings(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.map((p) => p.key);
  }
  return [];
};

test("token lifetimes default to 15 minutes and 30 days; failed log-in limits are on", () => {
  expect(loadAccountsSettings({})).toEqual({
    accessTokenTtlS: 900,
    refreshTokenTtlS: 2_592_000,
    loginLimits: {
      pair: { free: 5, baseMs: 1000, maxMs: 900_000 },
      address: { free: 100, baseMs: 1000, maxMs: 900_000 },
      account: { free: 50, baseMs: 1000, maxMs: 60_000 },
      windowMs: 3_600_000,
    },
  });
});

test("LOGIN_* settings shape the limits, and LOGIN_LIMITS=off turns them off", () => {
  const s = loadAccountsSettings({
    LOGIN_FREE_FAILURES: "3",
    LOGIN_LOCK_BASE_S: "2",
    LOGIN_LOCK_MAX_S: "60",
  });
  expect(s.loginLimits?.pair).toEqual({ free: 3, baseMs: 2000, maxMs: 60_000 });
  expect(loadAccountsSettings({ LOGIN_LIMITS: "off" }).loginLimits).toBeNull();
});

test("bad values stop start-up naming each key", () => {
  expect(problemKeys({ ACCESS_TOKEN_TTL_S: "soon", REFRESH_TOKEN_TTL_S: "0" })).toEqual([
    "ACCESS_TOKEN_TTL_S",
    "REFRESH_TOKEN_TTL_S",
  ]);
  expect(problemKeys({ LOGIN_LIMITS: "maybe", LOGIN_FREE_FAILURES: "0" })).toEqual([
    "LOGIN_LIMITS",
    "LOGIN_FREE_FAILURES",
  ]);
  // A counter forgotten before its lock ends would let the next guess in for free.
  expect(problemKeys({ LOGIN_FAILURE_WINDOW_S: "600", LOGIN_LOCK_MAX_S: "900" })).toEqual([
    "LOGIN_FAILURE_WINDOW_S",
  ]);
});
