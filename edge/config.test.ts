import { describe, expect, test } from "bun:test";
import { ConfigError, edgeOptionsFromConfig, loadConfig, longestTimeoutMs } from "./config.ts";
import { EDGE_DEFAULTS } from "./defaults.ts";

describe("loadConfig", () => {
  test("defaults", () => {
    expect(loadConfig({})).toEqual({
      NATS_URL: "nats://127.0.0.1:4222",
      EDGE_HOST: "127.0.0.1",
      EDGE_PORT: 8787,
      EDGE_TIMEOUT_MS: 10_000,
      EDGE_ROUTE_TIMEOUTS: [],
      EDGE_SWEEP_INTERVAL_MS: 1000,
      EDGE_TRY_TIMEOUT_MIN_MS: 250,
      EDGE_RETRY_ATTEMPTS: 3,
      EDGE_RETRY_BACKOFF_MS: 25,
      EDGE_RETRY_BACKOFF_MAX_MS: 1000,
      EDGE_RETRY_BUDGET_RATIO: 0.2,
      EDGE_RETRY_BUDGET_MIN: 10,
      EDGE_RETRY_BUDGET_WINDOW_MS: 10_000,
      EDGE_BREAKER_FAILURES: 5,
      EDGE_BREAKER_HALF_OPEN_MS: 5000,
      EDGE_CACHE_MAX_ENTRIES: 1000,
      EDGE_CACHE_MAX_BYTES: 32 * 1024 * 1024,
      EDGE_CACHE_MAX_STALE_MS: 3_600_000,
      EDGE_MAX_BODY_BYTES: 6 * 1024 * 1024,
      EDGE_MAX_HEADER_BYTES: 16 * 1024,
      EDGE_MAX_URL_BYTES: 8 * 1024,
      EDGE_CORS_ORIGINS: [],
      EDGE_HSTS_MAX_AGE_S: 0,
      EDGE_AUTH: "on",
      EDGE_AUTH_ISSUER: "runnerly-accounts",
      EDGE_AUTH_AUDIENCE: "runnerly",
      EDGE_AUTH_JWKS_SUBJECT: "svc.accounts.rpc.jwks",
      EDGE_AUTH_JWKS_REFRESH_MS: 30_000,
    });
  });

  test("the environment's defaults are createEdge's defaults", () => {
    const options = edgeOptionsFromConfig(loadConfig({}));
    expect(options.retry).toEqual({ ...EDGE_DEFAULTS.retry });
    expect(options.breaker).toEqual({ ...EDGE_DEFAULTS.breaker });
    expect(options.cache).toEqual({ ...EDGE_DEFAULTS.cache });
    expect(options.limits).toEqual({ ...EDGE_DEFAULTS.limits });
  });

  test("route timeouts and CORS origins are lists; the longest timeout bounds the server's idle timeout", () => {
    const c = loadConfig({
      EDGE_ROUTE_TIMEOUTS: "/api/runs=2000, /api/stats/reports=28000",
      EDGE_CORS_ORIGINS: "https://app.example, http://localhost:5173",
    });
    expect(c.EDGE_ROUTE_TIMEOUTS).toEqual([
      { prefix: "/api/runs", ms: 2000 },
      { prefix: "/api/stats/reports", ms: 28_000 },
    ]);
    expect(c.EDGE_CORS_ORIGINS).toEqual(["https://app.example", "http://localhost:5173"]);
    expect(longestTimeoutMs(c)).toBe(28_000);
    expect(loadConfig({ EDGE_CORS_ORIGINS: "*" }).EDGE_CORS_ORIGINS).toEqual(["*"]);
  });

  test.each([
    ["EDGE_ROUTE_TIMEOUTS", "/api/runs"],
    ["EDGE_ROUTE_TIMEOUTS", "api/runs=2000"],
    ["EDGE_ROUTE_TIMEOUTS", "/api/runs=0"],
    ["EDGE_CORS_ORIGINS", "app.example"],
    ["EDGE_RETRY_BUDGET_RATIO", "1.5"],
    ["EDGE_RETRY_ATTEMPTS", "0"],
  ])("%s=%s is refused, naming the key", (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(key);
  });

  test("reads and coerces values; empty values count as unset", () => {
    const c = loadConfig({
      NATS_URL: "nats://a:4222, tls://b:4222",
      NATS_USER: "edge",
      NATS_PASS: "s3cret",
      EDGE_PORT: "9000",
      EDGE_TIMEOUT_MS: "2500",
      EDGE_HOST: "",
    });
    expect(c).toMatchObject({
      EDGE_PORT: 9000,
      EDGE_TIMEOUT_MS: 2500,
      EDGE_HOST: "127.0.0.1",
      NATS_USER: "edge",
    });
  });

  test("one error names every bad key", () => {
    let error: unknown;
    try {
      loadConfig({ NATS_URL: "http://x", EDGE_PORT: "99999", EDGE_TIMEOUT_MS: "soon" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.problems.map((p) => p.key).sort()).toEqual(["EDGE_PORT", "EDGE_TIMEOUT_MS", "NATS_URL"]);
    for (const key of ["NATS_URL", "EDGE_PORT", "EDGE_TIMEOUT_MS"]) expect(e.message).toContain(key);
  });

  test("a password needs a user", () => {
    expect(() => loadConfig({ NATS_PASS: "x" })).toThrow(/NATS_USER/);
  });
});
