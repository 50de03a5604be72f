import { describe, expect, test } from "bun:test";
import { normalizePrefix, toRegistration } from "./registration.ts";

const info = (overrides: Record<string, unknown> = {}) => ({
  type: "io.nats.micro.v1.info_response",
  name: "runs",
  id: "NUID123",
  version: "1.2.3",
  description: "",
  metadata: { "http.prefix": "/api/runs" },
  endpoints: [
    { name: "http", subject: "svc.runs.http", queue_group: "q" },
    { name: "rpc-get", subject: "svc.runs.rpc.get", queue_group: "q" },
  ],
  ...overrides,
});

describe("toRegistration", () => {
  test("reads the http endpoint and the http.prefix metadata", () => {
    expect(toRegistration(info())).toEqual({
      id: "NUID123",
      name: "runs",
      version: "1.2.3",
      prefix: "/api/runs",
      subject: "svc.runs.http",
      publicRoutes: "",
    });
  });

  test.each([
    ["no http endpoint", { endpoints: [{ name: "rpc", subject: "svc.runs.rpc.get" }] }],
    ["no http.prefix", { metadata: {} }],
    ["no metadata", { metadata: null }],
    ["not an INFO reply", { id: 42 }],
  ])("%s → not an HTTP service (null)", (_why, overrides) => {
    expect(toRegistration(info(overrides))).toBeNull();
  });

  test.each([
    ["a relative prefix", { metadata: { "http.prefix": "api/runs" } }],
    ["a prefix with a query", { metadata: { "http.prefix": "/api/runs?x=1" } }],
    ["a prefix with ..", { metadata: { "http.prefix": "/api/../admin" } }],
    ["a wildcard subject", { endpoints: [{ name: "http", subject: "svc.runs.>" }] }],
    ["a missing subject", { endpoints: [{ name: "http" }] }],
    ["a name with a dot", { name: "runs.v2" }],
  ])("%s → invalid, with a reason", (_why, overrides) => {
    const r = toRegistration(info(overrides));
    expect(r).toMatchObject({ invalid: expect.any(String) });
  });
});

describe("normalizePrefix", () => {
  test.each([
    ["/api/runs", "/api/runs"],
    ["/api/runs/", "/api/runs"],
    [" /api/runs ", "/api/runs"],
    ["/", "/"],
    ["//", null],
    ["/api//runs", null],
    ["", null],
    ["/api/run s", null],
  ])("%j → %j", (raw, expected) => {
    expect(normalizePrefix(raw)).toBe(expected);
  });
});
