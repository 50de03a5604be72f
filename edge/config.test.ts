import { describe, expect, test } from "bun:test";
import { loadConfig as loadWithSchema, meshConfigKeys } from "@runnerly/kit/web";
import {
  ConfigError,
  EdgeConfigSchema,
  edgeOptionsFromConfig,
  loadConfig,
  longestTimeoutMs,
  WsEdgeConfigSchema,
} from "./config.ts";
import { EDGE_DEFAULTS } from "./defaults.ts";
import { DEFAULT_LARGE_BODIES } from "./proxy/large-bodies.ts";

describe("loadConfig", () => {
  test("defaults", () => {
    expect(loadConfig({})).toEqual({
      NATS_URL: "nats://127.0.0.1:4222",
      LOG_LEVEL: "info",
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
      EDGE_OUTLIER_FAILURES: 3,
      EDGE_OUTLIER_EJECT_MS: 10_000,
      EDGE_OUTLIER_MAX_EJECT_MS: 300_000,
      EDGE_OUTLIER_MAX_EJECTED_PERCENT: 50,
      EDGE_HEDGE: "on",
      EDGE_HEDGE_MIN_MS: 10,
      EDGE_HEDGE_MAX_MS: 250,
      EDGE_ROUTE_HEDGE: [],
      EDGE_CACHE_MAX_ENTRIES: 1000,
      EDGE_CACHE_MAX_BYTES: 32 * 1024 * 1024,
      EDGE_CACHE_MAX_STALE_MS: 3_600_000,
      EDGE_MAX_BODY_BYTES: 6 * 1024 * 1024,
      EDGE_MAX_HEADER_BYTES: 16 * 1024,
      EDGE_MAX_URL_BYTES: 8 * 1024,
      EDGE_BODY_TIMEOUT_MS: 10_000,
      EDGE_LARGE_BODY_BYTES: 1024 * 1024,
      EDGE_LARGE_BODIES_PER_CALLER: 1,
      EDGE_LARGE_BODIES_PER_INSTANCE: 2,
      EDGE_STREAM_MAX_MS: 300_000,
      EDGE_STREAM_IDLE_MS: 30_000,
      EDGE_CORS_ORIGINS: [],
      EDGE_HSTS_MAX_AGE_S: 0,
      EDGE_AUTH: "on",
      EDGE_AUTH_ISSUER: "runnerly-accounts",
      EDGE_AUTH_AUDIENCE: "runnerly",
      EDGE_AUTH_JWKS_SUBJECT: "svc.accounts.rpc.jwks",
      EDGE_AUTH_JWKS_REFRESH_MS: 30_000,
      EDGE_AUTH_REVOKED_BUCKET: "revoked_sessions",
      EDGE_RATE_LIMITS: [],
      EDGE_TRUSTED_PROXIES: [],
      EDGE_RATE_LIMIT_BUCKET: "edge_rate_limits",
      EDGE_RATE_LIMIT_REPLICAS: 1,
      EDGE_DASHBOARD: true,
      EDGE_SERVICE_LIMITS: "on",
      EDGE_PREFIX_POLICY: "own",
      EDGE_PREFIX_GRANTS: {},
    });
  });

  test("outlier ejection and hedging: defaults, per-route hedge delays or off, bad values named", () => {
    const options = edgeOptionsFromConfig(
      loadConfig({
        EDGE_OUTLIER_FAILURES: "5",
        EDGE_OUTLIER_MAX_EJECTED_PERCENT: "34",
        EDGE_HEDGE_MIN_MS: "5",
        EDGE_ROUTE_HEDGE: "/api/stats/reports=off, /api/runs=20",
      }),
    );
    expect(options.outlier).toEqual({ ...EDGE_DEFAULTS.outlier, failures: 5, maxEjectedPercent: 34 });
    expect(options.hedge).toEqual({ enabled: true, minMs: 5, maxMs: 250 });
    expect(options.routeHedges).toEqual([
      { prefix: "/api/stats/reports", ms: 0 },
      { prefix: "/api/runs", ms: 20 },
    ]);
    expect(edgeOptionsFromConfig(loadConfig({ EDGE_HEDGE: "off" })).hedge?.enabled).toBe(false);
    expect(() => loadConfig({ EDGE_ROUTE_HEDGE: "/api/runs=soon" })).toThrow(
      /EDGE_ROUTE_HEDGE: .*bad: \/api\/runs=soon/,
    );
    expect(() => loadConfig({ EDGE_ROUTE_TIMEOUTS: "/api/runs=off" })).toThrow(/EDGE_ROUTE_TIMEOUTS/);
    expect(() => loadConfig({ EDGE_OUTLIER_MAX_EJECTED_PERCENT: "101" })).toThrow(
      /EDGE_OUTLIER_MAX_EJECTED_PERCENT/,
    );
    expect(() => loadConfig({ EDGE_HEDGE_MIN_MS: "300" })).toThrow(/EDGE_HEDGE_MIN_MS: must not exceed/);
  });

  test("EDGE_PREFIX_GRANTS adds prefixes a service may claim; a bad pair is named", () => {
    const claims = edgeOptionsFromConfig(
      loadConfig({ EDGE_PREFIX_GRANTS: "web=/, legacy=/v1/legacy/,legacy=/v2" }),
    ).claims;
    expect(claims).toEqual({ mode: "own", grants: { web: ["/"], legacy: ["/v1/legacy", "/v2"] } });
    expect(() => loadConfig({ EDGE_PREFIX_GRANTS: "web" })).toThrow(
      /EDGE_PREFIX_GRANTS: must be name=\/prefix pairs/,
    );
    expect(() => loadConfig({ EDGE_PREFIX_GRANTS: "web=/../x" })).toThrow(/bad: web=\/\.\.\/x/);
    expect(edgeOptionsFromConfig(loadConfig({ EDGE_PREFIX_POLICY: "any" })).claims?.mode).toBe("any");
  });

  test("EDGE_DASHBOARD=0 (or off) turns the dashboard off", () => {
    expect(edgeOptionsFromConfig(loadConfig({})).dashboard).toBe(true);
    expect(edgeOptionsFromConfig(loadConfig({ EDGE_DASHBOARD: "0" })).dashboard).toBe(false);
    expect(edgeOptionsFromConfig(loadConfig({ EDGE_DASHBOARD: "off" })).dashboard).toBe(false);
    expect(() => loadConfig({ EDGE_DASHBOARD: "maybe" })).toThrow(/EDGE_DASHBOARD/);
  });

  test("the environment's defaults are createEdge's defaults", () => {
    const options = edgeOptionsFromConfig(loadConfig({}));
    expect(options.retry).toEqual({ ...EDGE_DEFAULTS.retry });
    expect(options.breaker).toEqual({ ...EDGE_DEFAULTS.breaker });
    expect(options.cache).toEqual({ ...EDGE_DEFAULTS.cache });
    expect(options.limits).toEqual({ ...EDGE_DEFAULTS.limits });
    expect(options.outlier).toEqual({ ...EDGE_DEFAULTS.outlier });
    expect(options.hedge).toEqual({ ...EDGE_DEFAULTS.hedge });
    expect(options.largeBodies).toEqual({ ...DEFAULT_LARGE_BODIES });
    expect(options.requestTimeoutMs).toBe(EDGE_DEFAULTS.requestTimeoutMs);
    expect(options.sweepIntervalMs).toBe(EDGE_DEFAULTS.sweepIntervalMs);
    expect(options.hstsMaxAgeSeconds).toBe(EDGE_DEFAULTS.hstsMaxAgeS);
    expect(options.auth).toMatchObject({
      issuer: EDGE_DEFAULTS.auth.issuer,
      audience: EDGE_DEFAULTS.auth.audience,
    });
    // No quota unless one is configured: rate limiting is off by default.
    expect(options.rateLimits).toEqual({
      policies: [],
      trustedProxies: [],
      bucket: EDGE_DEFAULTS.rateLimit.bucket,
      replicas: EDGE_DEFAULTS.rateLimit.replicas,
    });
  });

  test("rate limits: groups by prefix, windows in s/m/h, trusted proxies, a local-only bucket", () => {
    const c = loadConfig({
      EDGE_RATE_LIMITS: "default=100/60s; /api/accounts/login=5/1m; /api/runs/runs/import/=10/1h;",
      EDGE_TRUSTED_PROXIES: "10.0.0.0/8, 192.168.1.7, fd00::/8",
      EDGE_RATE_LIMIT_BUCKET: "off",
      EDGE_RATE_LIMIT_REPLICAS: "3",
    });
    expect(c.EDGE_RATE_LIMITS).toEqual([
      { name: "default", prefix: null, limit: 100, windowMs: 60_000 },
      { name: "/api/accounts/login", prefix: "/api/accounts/login", limit: 5, windowMs: 60_000 },
      { name: "/api/runs/runs/import", prefix: "/api/runs/runs/import", limit: 10, windowMs: 3_600_000 },
    ]);
    expect(edgeOptionsFromConfig(c).rateLimits).toEqual({
      policies: c.EDGE_RATE_LIMITS,
      trustedProxies: ["10.0.0.0/8", "192.168.1.7", "fd00::/8"],
      bucket: null,
      replicas: 3,
    });
    expect(loadConfig({ EDGE_RATE_LIMITS: "off" }).EDGE_RATE_LIMITS).toEqual([]);
  });

  test("route timeouts and CORS origins are lists; the body's time plus the longest timeout bound the server's idle timeout", () => {
    const c = loadConfig({
      EDGE_ROUTE_TIMEOUTS: "/api/runs=2000, /api/stats/reports=28000",
      EDGE_CORS_ORIGINS: "https://app.example, http://localhost:5173",
    });
    expect(c.EDGE_ROUTE_TIMEOUTS).toEqual([
      { prefix: "/api/runs", ms: 2000 },
      { prefix: "/api/stats/reports", ms: 28_000 },
    ]);
    expect(c.EDGE_CORS_ORIGINS).toEqual(["https://app.example", "http://localhost:5173"]);
    expect(longestTimeoutMs(c)).toBe(10_000 + 28_000);
    expect(longestTimeoutMs(loadConfig({ EDGE_BODY_TIMEOUT_MS: "500", EDGE_TIMEOUT_MS: "2000" }))).toBe(2500);
    expect(loadConfig({ EDGE_CORS_ORIGINS: "*" }).EDGE_CORS_ORIGINS).toEqual(["*"]);
  });

  test.each([
    ["EDGE_ROUTE_TIMEOUTS", "/api/runs"],
    ["EDGE_ROUTE_TIMEOUTS", "api/runs=2000"],
    ["EDGE_ROUTE_TIMEOUTS", "/api/runs=0"],
    ["EDGE_CORS_ORIGINS", "app.example"],
    ["EDGE_RETRY_BUDGET_RATIO", "1.5"],
    ["EDGE_RETRY_ATTEMPTS", "0"],
    ["EDGE_RATE_LIMITS", "default=100"],
    ["EDGE_RATE_LIMITS", "default=100/60"],
    ["EDGE_RATE_LIMITS", "api/runs=5/60s"],
    ["EDGE_RATE_LIMITS", "default=0/60s"],
    ["EDGE_RATE_LIMITS", "default=5/2d"],
    ["EDGE_RATE_LIMITS", "default=5/60s; default=6/60s"],
    ["EDGE_TRUSTED_PROXIES", "10.0.0.0/33"],
    ["EDGE_TRUSTED_PROXIES", "proxy.internal"],
    ["EDGE_RATE_LIMIT_BUCKET", "edge.limits"],
    ["EDGE_RATE_LIMIT_REPLICAS", "7"],
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
    expect(() => loadConfig({ NATS_PASS: "x" })).toThrow(/NATS_USER: required with NATS_PASS/);
  });

  test("EDGE_WORKERS is read with the rest: unset means one per core, a bad count is named", () => {
    expect(loadConfig({}).EDGE_WORKERS).toBeUndefined();
    expect(loadConfig({ EDGE_WORKERS: "2" }).EDGE_WORKERS).toBe(2);
    for (const bad of ["0", "257", "many", "1.5"]) {
      expect(() => loadConfig({ EDGE_WORKERS: bad })).toThrow(/EDGE_WORKERS: /);
    }
  });
});

describe("the NATS keys: the kit's, one rule per transport", () => {
  test("the edge's schema takes the kit's NATS and LOG_LEVEL keys as they are", () => {
    for (const [key, schema] of Object.entries(meshConfigKeys.shape)) {
      expect(EdgeConfigSchema.shape[key as keyof typeof EdgeConfigSchema.shape]).toBe(schema);
    }
  });

  test("on Bun, NATS_URL is TCP; a WebSocket address is refused with where it belongs", () => {
    expect(loadConfig({ NATS_URL: "127.0.0.1:4222, tls://n2:4222" }).NATS_URL).toBe(
      "127.0.0.1:4222, tls://n2:4222",
    );
    expect(() => loadConfig({ NATS_URL: "ws://127.0.0.1:8080" })).toThrow(/NATS_URL: .*NATS_WS_URL on Deno/);
  });

  test("on Deno and workerd, NATS_WS_URL is required and must be ws:// or wss://", () => {
    const ws = (env: Record<string, string>) => loadWithSchema(WsEdgeConfigSchema, env, "edge");
    expect(ws({ NATS_WS_URL: "wss://n1.example.com, ws://127.0.0.1:8080" }).NATS_WS_URL).toEqual([
      "wss://n1.example.com",
      "ws://127.0.0.1:8080",
    ]);
    expect(() => ws({})).toThrow(/NATS_WS_URL: required: must be ws:\/\/ or wss:\/\/ URLs/);
    expect(() => ws({ NATS_WS_URL: "nats://127.0.0.1:4222" })).toThrow(/NATS_WS_URL: must be ws:\/\//);
    expect(() => ws({ NATS_WS_URL: "127.0.0.1:8080" })).toThrow(/NATS_WS_URL/);
  });

  test("on Deno and workerd, file keys are refused rather than ignored", () => {
    let error: unknown;
    try {
      loadWithSchema(
        WsEdgeConfigSchema,
        { NATS_WS_URL: "ws://127.0.0.1:8080", NATS_CREDS: "/x.creds", NATS_TLS_CA: "/ca.pem" },
        "edge",
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.key).sort()).toEqual(["NATS_CREDS", "NATS_TLS_CA"]);
    expect((error as ConfigError).message).toContain("cannot read");
  });

  test("the Bun edge's schema accepts NATS_WS_URL, which only the WebSocket runtimes use", () => {
    const c = loadConfig({ NATS_WS_URL: "ws://127.0.0.1:8080" });
    expect(c.NATS_WS_URL).toEqual(["ws://127.0.0.1:8080"]);
    expect(c.NATS_URL).toBe("nats://127.0.0.1:4222");
  });
});
