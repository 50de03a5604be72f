import { expect, test } from "bun:test";
import { ConfigError } from "@runnerly/kit";
import { loadAccountsSettings } from "./settings.ts";

test("token lifetimes default to 15 minutes and 30 days", () => {
  expect(loadAccountsSettings({})).toEqual({ accessTokenTtlS: 900, refreshTokenTtlS: 2_592_000 });
});

test("bad lifetimes stop start-up naming each key", () => {
  const err = (() => {
    try {
      loadAccountsSettings({ ACCESS_TOKEN_TTL_S: "soon", REFRESH_TOKEN_TTL_S: "0" });
    } catch (e) {
      return e;
    }
  })();
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).problems.map((p) => p.key)).toEqual([
    "ACCESS_TOKEN_TTL_S",
    "REFRESH_TOKEN_TTL_S",
  ]);
});
