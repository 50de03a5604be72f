import { describe, expect, test } from "bun:test";
import { decodeCursor, encodeCursor, paceSPerKm, toUtcIso } from "./runs.ts";

describe("runs domain", () => {
  test("pace in seconds per km", () => {
    expect(paceSPerKm(10_000, 3000)).toBe(300);
    expect(paceSPerKm(5000, 1234)).toBe(246.8);
  });

  test("times normalise to UTC", () => {
    expect(toUtcIso("2026-11-20T08:30:00+01:00")).toBe("2026-11-20T07:30:00.000Z");
  });

  test("cursors round-trip and foreign ones are refused", () => {
    const c = { startedAt: "2026-11-20T07:30:00.000Z", id: "a" };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    for (const bad of [
      "",
      "!!!",
      Buffer.from("[1,2]").toString("base64url"),
      Buffer.from('["x","y"]').toString("base64url"),
    ]) {
      expect(decodeCursor(bad)).toBeNull();
    }
  });
});
