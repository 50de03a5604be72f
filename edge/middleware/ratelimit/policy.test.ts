import { describe, expect, test } from "bun:test";
import { parseRateLimits, policyField, policyFor, rateLimitField } from "./policy.ts";
import { secondsUntil, take, tokensAt } from "./token-bucket.ts";

const policies = parseRateLimits(
  "default=100/60s; /api/accounts/login=5/60s; /api/runs=50/1m; /api/runs/runs/import=10/1h",
);

describe("parseRateLimits", () => {
  test("entries by group, windows in s/m/h, a trailing slash or ; is fine", () => {
    expect(parseRateLimits("/api/x/=3/2h;")).toEqual([
      { name: "/api/x", prefix: "/api/x", limit: 3, windowMs: 7_200_000 },
    ]);
    expect(policies.map((p) => [p.name, p.limit, p.windowMs / 1000])).toEqual([
      ["default", 100, 60],
      ["/api/accounts/login", 5, 60],
      ["/api/runs", 50, 60],
      ["/api/runs/runs/import", 10, 3600],
    ]);
  });

  test.each(["", "  ", "off"])("%p is no policy", (text) => {
    expect(parseRateLimits(text)).toEqual([]);
  });

  test.each([
    "default=100",
    "default=100/60",
    "default=100/0s",
    "default=100/25h",
    "api/runs=5/60s",
    "/api/runs=-1/60s",
    "/api/runs 5/60s",
    "/a=1/1s; /a=2/1s",
  ])("%p is refused", (text) => {
    expect(() => parseRateLimits(text)).toThrow(RangeError);
  });
});

describe("policyFor", () => {
  test.each([
    ["/api/accounts/login", "/api/accounts/login"],
    ["/api/accounts/login/", "/api/accounts/login"],
    ["/api/accounts/loginx", "default"],
    ["/api/accounts/me", "default"],
    ["/api/runs/runs/import", "/api/runs/runs/import"],
    ["/api/runs/runs/7", "/api/runs"],
    ["/api/runs", "/api/runs"],
    ["/", "default"],
  ])("%s → %s (longest whole-segment prefix, else default)", (path, name) => {
    expect(policyFor(path, policies)?.name).toBe(name);
  });

  test("without a default, other paths are not limited", () => {
    expect(policyFor("/api/stats", parseRateLimits("/api/runs=5/60s"))).toBeNull();
  });
});

describe("RateLimit fields (draft-ietf-httpapi-ratelimit-headers)", () => {
  test("policy and state as Structured Fields lists with quoted names", () => {
    const [def, login] = policies;
    expect(policyField(def!)).toBe('"default";q=100;w=60');
    expect(policyField(login!)).toBe('"/api/accounts/login";q=5;w=60');
    expect(rateLimitField(def!, 42.7, 16.2)).toBe('"default";r=42;t=17');
    expect(rateLimitField(def!, -3, -1)).toBe('"default";r=0;t=0');
  });
});

describe("token bucket", () => {
  const p = { name: "p", prefix: null, limit: 10, windowMs: 10_000 };

  test("a new bucket is full; it refills at limit/window up to the limit", () => {
    expect(tokensAt(null, p, 0)).toBe(10);
    expect(tokensAt({ tokens: 0, at: 1000 }, p, 3000)).toBe(2);
    expect(tokensAt({ tokens: 9, at: 0 }, p, 60_000)).toBe(10);
    // A clock behind the writer's adds nothing.
    expect(tokensAt({ tokens: 4, at: 5000 }, p, 1000)).toBe(4);
  });

  test("take: forced tokens first (may go into debt, not below -limit), then whole tokens wanted", () => {
    expect(take(null, p, 0, 3, 0)).toEqual({ granted: 3, state: { tokens: 7, at: 0 } });
    expect(take({ tokens: 2.5, at: 0 }, p, 0, 5, 0).granted).toBe(2);
    expect(take({ tokens: 1, at: 0 }, p, 3, 1, 0)).toEqual({ granted: 0, state: { tokens: -2, at: 0 } });
    expect(take({ tokens: 0, at: 0 }, p, 50, 0, 0).state.tokens).toBe(-10);
  });

  test("secondsUntil rounds up", () => {
    expect(secondsUntil(0.5, 1, p)).toBe(1);
    expect(secondsUntil(-2, 1, p)).toBe(3);
    expect(secondsUntil(3, 10, p)).toBe(7);
    expect(secondsUntil(10, 10, p)).toBe(0);
  });
});
