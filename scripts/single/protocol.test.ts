import { describe, expect, test } from "bun:test";
import { crashReason } from "./protocol.ts";

describe("crashReason", () => {
  test.each([
    [
      "a Bun worker error event",
      '8 |   setTimeout(() => { throw new Error("boom"); });\n      ^\nerror: boom\n      at <anonymous> (/w.ts:8:56)',
      "boom",
    ],
    [
      "a stack",
      "uncaught TypeError: x is not a function\n    at f (/a.ts:1:1)",
      "uncaught TypeError: x is not a function",
    ],
    ["a bare message", "\n  connection refused\n", "connection refused"],
    ["nothing", "", "unknown error"],
  ])("%s", (_what, text, reason) => {
    expect(crashReason(text)).toBe(reason);
  });

  test("keeps it short", () => {
    expect(crashReason(`Error: ${"x".repeat(300)}`)).toHaveLength(120);
  });
});
