/**
 * The deny list's bookkeeping, without NATS (the watch itself is tested
 * against a real server in revocation.test.ts): an entry lists its session
 * until its own `until`, a delete or purge unlists it, and a value that is not
 * a revocation keeps the session listed (failing closed) for the fallback time.
 */
import { describe, expect, test } from "bun:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { encodeRevocation, silentLogger } from "@runnerly/kit";
import { RevokedSessions } from "./revoked-sessions.ts";

const list = () =>
  new RevokedSessions({ nc: null as unknown as NatsConnection, logger: silentLogger, fallbackMs: 60_000 });
const entry = (key: string, value: string, operation: "PUT" | "DEL" | "PURGE" = "PUT") => ({
  key,
  operation,
  created: new Date(),
  string: () => value,
});

describe("revoked sessions in memory", () => {
  test("a session is listed until its own time, then forgotten", () => {
    const revoked = list();
    revoked.apply(entry("live", encodeRevocation({ until: Date.now() + 60_000 })));
    revoked.apply(entry("over", encodeRevocation({ until: Date.now() - 1 })));
    expect(revoked.has("live")).toBe(true);
    expect(revoked.has("over")).toBe(false);
    expect(revoked.has("never-listed")).toBe(false);
    expect(revoked.size).toBe(1);
  });

  test("a delete or a purge unlists a session", () => {
    const revoked = list();
    for (const op of ["DEL", "PURGE"] as const) {
      revoked.apply(entry(op, encodeRevocation({ until: Date.now() + 60_000 })));
      revoked.apply(entry(op, "", op));
      expect(revoked.has(op)).toBe(false);
    }
  });

  test.each([
    "",
    "not json",
    '{"until":"soon"}',
    "{}",
  ])("a value that is not a revocation (%p) keeps the session listed", (value) => {
    const revoked = list();
    revoked.apply(entry("odd", value));
    expect(revoked.has("odd")).toBe(true);
  });
});
