import { describe, expect, test } from "bun:test";
import {
  isForwardingHeader,
  isPublicRoute,
  isReservedHeader,
  MeshHeader,
  parsePublicRoutes,
  requestToNatsHeaders,
} from "./index.ts";

describe("reserved headers", () => {
  test("the Http-, Mesh- and Nats- families, in any case", () => {
    for (const h of ["Http-Method", "mesh-user", "NATS-MSG-ID"]) expect(isReservedHeader(h)).toBe(true);
    for (const h of ["authorization", "x-http-thing", "content-type"])
      expect(isReservedHeader(h)).toBe(false);
  });

  test("headers named in Connection are dropped too", () => {
    const h = requestToNatsHeaders(
      "GET",
      "/x",
      new Headers({ connection: "keep-alive, x-hop", "x-hop": "1", "x-kept": "2" }),
      { requestId: "r", deadline: 1, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    );
    expect(h.has("x-hop")).toBe(false);
    expect(h.get("x-kept")).toBe("2");
  });

  test("forwarding headers a client wrote are dropped; the edge's Mesh-Client-Address is set, or left out", () => {
    const ctx = {
      requestId: "r",
      deadline: 1,
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    };
    const sent = new Headers({
      forwarded: "for=203.0.113.9;proto=https",
      "X-Forwarded-For": "203.0.113.9",
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "https",
      "x-forwarded-port": "443",
      "x-real-ip": "203.0.113.9",
      "mesh-client-address": "203.0.113.9",
      "x-forwarded-client-cert": "kept: not an address",
    });
    const h = requestToNatsHeaders("GET", "/x", sent, { ...ctx, clientAddress: "198.51.100.7" });
    for (const name of ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip"])
      expect([name, isForwardingHeader(name), h.has(name)]).toEqual([name, true, false]);
    expect(h.has("x-forwarded-port")).toBe(false);
    expect(h.values(MeshHeader.ClientAddress, "insensitive")).toEqual(["198.51.100.7"]);
    expect(h.get("x-forwarded-client-cert")).toBe("kept: not an address");
    const unknown = requestToNatsHeaders("GET", "/x", sent, { ...ctx, clientAddress: null });
    expect(unknown.has(MeshHeader.ClientAddress, "insensitive")).toBe(false);
  });
});

describe("public routes", () => {
  const routes = parsePublicRoutes(
    "POST /api/accounts/login, GET /api/accounts/users/*,bogus, GET /api/docs",
  );
  const cases: [string, string, boolean][] = [
    ["POST", "/api/accounts/login", true],
    ["GET", "/api/accounts/login", false],
    ["GET", "/api/accounts/users/42", true],
    ["HEAD", "/api/accounts/users/42", true],
    ["GET", "/api/accounts/users/42/runs", false],
    ["GET", "/api/accounts/users", false],
    ["GET", "/api/docs?x=1", true],
  ];
  for (const [method, path, expected] of cases) {
    test(`${method} ${path} → ${expected ? "public" : "needs a caller"}`, () => {
      expect(isPublicRoute(routes, method, path)).toBe(expected);
    });
  }
});
