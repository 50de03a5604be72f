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
      levels: {},
      major: 1,
      versionSubject: null,
      instanceSubject: null,
    });
  });

  test("reads the instance's own endpoint; one on another subject, or an id like a version's, is refused", () => {
    const own = (id: string, subject: string) =>
      toRegistration(
        info({
          id,
          endpoints: [
            { name: "http", subject: "svc.runs.http" },
            { name: "http-instance", subject, metadata: { kind: "http-instance" } },
          ],
        }),
      );
    expect(own("NUID123", "svc.runs.http.NUID123")).toMatchObject({
      instanceSubject: "svc.runs.http.NUID123",
    });
    // Another instance's subject, another service's, or the shared one: not routable.
    for (const subject of ["svc.runs.http.OTHER", "svc.accounts.http.NUID123", "svc.runs.http"])
      expect(own("NUID123", subject)).toMatchObject({ invalid: expect.stringContaining("http-instance") });
    // An id that reads as a major version would take that version's subject.
    expect(own("v2", "svc.runs.http.v2")).toMatchObject({
      invalid: expect.stringContaining("http-instance"),
    });
  });

  test("reads declared service levels and the versioned endpoint; malformed levels are left out", () => {
    const r = toRegistration(
      info({
        metadata: {
          "http.prefix": "/api/runs",
          "slo.availability": "99.9",
          "slo.latency_p99_ms": "250",
          "slo.rate_limit": "nonsense",
        },
        endpoints: [
          { name: "http", subject: "svc.runs.http" },
          { name: "http-v1", subject: "svc.runs.http.v1" },
        ],
      }),
    );
    expect(r).toMatchObject({
      levels: { availability: 99.9, latencyP99Ms: 250 },
      major: 1,
      versionSubject: "svc.runs.http.v1",
    });
    const stolen = toRegistration(
      info({
        endpoints: [
          { name: "http", subject: "svc.runs.http" },
          { name: "http-v1", subject: "svc.accounts.http.v1" },
        ],
      }),
    );
    expect(stolen).toMatchObject({
      invalid: "its http-v1 endpoint must be on svc.runs.http.v1, not svc.accounts.http.v1",
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
