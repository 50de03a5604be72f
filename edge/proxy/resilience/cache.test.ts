import { describe, expect, test } from "bun:test";
import { StaleCache } from "./cache.ts";
import { cacheability, cacheKey, principalOf } from "./cacheable.ts";

const h = (init: Record<string, string>) => new Headers(init);
const bytes = (s: string) => new TextEncoder().encode(s);

function cache(options: Partial<ConstructorParameters<typeof StaleCache>[0]> = {}) {
  let now = 1_000_000;
  const c = new StaleCache({
    maxEntries: 10,
    maxBytes: 100_000,
    maxStaleMs: 60_000,
    now: () => now,
    ...options,
  });
  return {
    c,
    advance(ms: number) {
      now += ms;
    },
  };
}

describe("cacheability", () => {
  test.each([
    [200, { "cache-control": "max-age=60" }, { freshMs: 60_000, staleIfErrorMs: null }],
    [200, { "cache-control": "public" }, { freshMs: 0, staleIfErrorMs: null }],
    [200, { "cache-control": "public, s-maxage=5, max-age=60" }, { freshMs: 5000, staleIfErrorMs: null }],
    [200, { "cache-control": "max-age=1, stale-if-error=30" }, { freshMs: 1000, staleIfErrorMs: 30_000 }],
    [200, { "cache-control": "private, max-age=60" }, null],
    [200, { "cache-control": "no-store" }, null],
    [200, { "cache-control": "no-cache, max-age=60" }, null],
    [200, { "cache-control": "max-age=60, must-revalidate" }, null],
    [200, {}, null],
    [200, { "cache-control": "max-age=60", "set-cookie": "a=1" }, null],
    [200, { "cache-control": "max-age=60", vary: "*" }, null],
    [404, { "cache-control": "max-age=60" }, null],
  ] as [number, Record<string, string>, unknown][])("%d %o → %o", (status, headers, expected) => {
    expect(cacheability(status, h(headers))).toEqual(expected as never);
  });
});

describe("principalOf: one user's copy is never another's", () => {
  test("no credentials: anonymous; a verified user is named", async () => {
    expect(await principalOf(h({}))).toBe("anonymous");
    expect(await principalOf(h({ authorization: "Bearer x" }), "alice")).toBe("u:alice");
  });

  test("different credentials give different keys, the same credentials the same key", async () => {
    const a = await principalOf(h({ authorization: "Bearer token-of-alice" }));
    const b = await principalOf(h({ authorization: "Bearer token-of-bob" }));
    const c = await principalOf(h({ cookie: "session=alice" }));
    expect(new Set([a, b, c, "anonymous"]).size).toBe(4);
    expect(await principalOf(h({ authorization: "Bearer token-of-alice" }))).toBe(a);
    // The credential itself never appears in the key.
    expect(a).not.toContain("alice");
    expect(cacheKey("GET", "/api/x?a=1", a)).not.toBe(cacheKey("GET", "/api/x?a=1", b));
  });
});

describe("StaleCache", () => {
  const ok = h({ "cache-control": "max-age=10", "content-type": "application/json" });

  test("serves a kept copy marked stale, with its age", async () => {
    const { c, advance } = cache();
    expect(c.store("k", h({}), 200, ok, bytes('{"n":1}'))).toBe(true);
    advance(3500);
    const res = c.stale("k", h({}));
    expect(res?.status).toBe(200);
    expect(res?.headers.get("age")).toBe("3");
    expect(res?.headers.get("warning")).toBe('110 - "Response is Stale"');
    expect(res?.headers.get("mesh-stale")).toBe("true");
    expect(res?.headers.get("content-type")).toBe("application/json");
    expect(await res?.text()).toBe('{"n":1}');
  });

  test("keeps nothing the service marked private or no-store, and forgets the key when it does", () => {
    const { c } = cache();
    c.store("k", h({}), 200, ok, bytes("a"));
    expect(c.store("k", h({}), 200, h({ "cache-control": "no-store" }), bytes("b"))).toBe(false);
    expect(c.stale("k", h({}))).toBeNull();
    expect(c.size).toBe(0);
  });

  test("a copy too old to stand in is dropped (max stale, or the service's stale-if-error)", () => {
    const { c, advance } = cache({ maxStaleMs: 5000 });
    c.store("k", h({}), 200, ok, bytes("a"));
    c.store("sie", h({}), 200, h({ "cache-control": "max-age=10, stale-if-error=60" }), bytes("a"));
    advance(10_000 + 5001);
    expect(c.stale("k", h({}))).toBeNull();
    expect(c.stale("sie", h({}))).not.toBeNull();
  });

  test("Vary: a copy serves only requests with the same values of the named headers", () => {
    const { c } = cache();
    c.store(
      "k",
      h({ "accept-language": "fr" }),
      200,
      h({ "cache-control": "max-age=1", vary: "Accept-Language" }),
      bytes("bonjour"),
    );
    expect(c.stale("k", h({ "accept-language": "en" }))).toBeNull();
    expect(c.stale("k", h({ "accept-language": "fr" }))).not.toBeNull();
  });

  test("bounded by entries, least recently used out first", () => {
    const { c } = cache({ maxEntries: 2 });
    c.store("a", h({}), 200, ok, bytes("a"));
    c.store("b", h({}), 200, ok, bytes("b"));
    c.stale("a", h({})); // a is now the most recently used
    c.store("c", h({}), 200, ok, bytes("c"));
    expect(c.size).toBe(2);
    expect(c.stale("b", h({}))).toBeNull();
    expect(c.stale("a", h({}))).not.toBeNull();
  });

  test("bounded by bytes; a body over a quarter of the budget is not kept at all", () => {
    const { c } = cache({ maxBytes: 4000 });
    expect(c.store("big", h({}), 200, ok, new Uint8Array(1100))).toBe(false);
    for (const k of ["a", "b", "c", "d", "e"]) c.store(k, h({}), 200, ok, new Uint8Array(900));
    expect(c.bytes).toBeLessThanOrEqual(4000);
    expect(c.stale("a", h({}))).toBeNull();
    expect(c.stale("e", h({}))).not.toBeNull();
  });

  test("invalidate() forgets every caller's copy of a target", () => {
    const { c } = cache();
    c.store(cacheKey("GET", "/api/x", "anonymous"), h({}), 200, ok, bytes("a"));
    c.store(cacheKey("GET", "/api/x", "u:bob"), h({}), 200, ok, bytes("b"));
    c.store(cacheKey("GET", "/api/x?page=2", "u:bob"), h({}), 200, ok, bytes("c"));
    c.invalidate("/api/x");
    expect(c.size).toBe(1);
  });
});
