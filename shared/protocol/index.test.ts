import { describe, expect, test } from "bun:test";
import { isPublicRoute, isReservedHeader, parsePublicRoutes, requestToNatsHeaders } from "./index.ts";

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
