import { describe, expect, test } from "bun:test";
import { forEachLine, formatLogLine } from "./output.ts";
import { parseEnvFile } from "./services.ts";

describe("formatLogLine", () => {
  test.each([
    ["plain text stays as it is", "Server is ready", "Server is ready"],
    ["JSON without msg stays as it is", '{"a":1}', '{"a":1}'],
    [
      "pino fields become key=value, bookkeeping is dropped",
      '{"level":"info","time":"2026-01-01T00:00:00Z","pid":1,"hostname":"h","service":"runs","msg":"service ready","url":"http://127.0.0.1:4100"}',
      "info  service ready url=http://127.0.0.1:4100",
    ],
    ["numeric levels get their names", '{"level":40,"msg":"slow","ms":1200}', "warn  slow ms=1200"],
    ["values with spaces are quoted", '{"level":"info","msg":"m","who":"a b"}', 'info  m who="a b"'],
    [
      "an error without stack shows its message",
      '{"level":50,"msg":"x","err":{"message":"boom"}}',
      "error x err=boom",
    ],
    [
      "an error's stack follows on its own lines",
      '{"level":"error","msg":"x","err":{"message":"boom","stack":"Error: boom\\n    at f"}}',
      "error x\nError: boom\n    at f",
    ],
  ])("%s", (_name, line, expected) => {
    expect(Bun.stripANSI(formatLogLine(line))).toBe(expected);
  });

  test("long values are cut", () => {
    const formatted = Bun.stripANSI(
      formatLogLine(JSON.stringify({ level: "info", msg: "m", body: "x".repeat(200) })),
    );
    expect(formatted.length).toBeLessThan(100);
    expect(formatted.endsWith("…")).toBe(true);
  });
});

describe("forEachLine", () => {
  test("splits chunks into lines, across chunk borders and with a last unterminated line", async () => {
    const chunks = ["one\ntw", "o\r\nthr", "ee"].map((s) => new TextEncoder().encode(s));
    const lines: string[] = [];
    await forEachLine(new Blob(chunks).stream(), (line) => lines.push(line));
    expect(lines).toEqual(["one", "two", "three"]);
  });
});

describe("parseEnvFile", () => {
  test("reads KEY=value lines, quotes, export and comments", () => {
    const text = "# ports\nPORT=4101\nexport LOG_LEVEL=\"debug\"\n\nNAME='a b'\nnot a line\n";
    expect(parseEnvFile(text)).toEqual({ PORT: "4101", LOG_LEVEL: "debug", NAME: "a b" });
  });
});
