import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { builtModule } from "./built-module.ts";

const dir = mkdtempSync(join(tmpdir(), "built-module-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a .ts module that is there is started as given", () => {
  writeFileSync(join(dir, "both.ts"), "");
  writeFileSync(join(dir, "both.js"), "");
  const url = pathToFileURL(join(dir, "both.ts"));
  expect(builtModule(url)).toBe(url);
  expect(builtModule(join(dir, "both.ts"))).toBe(join(dir, "both.ts"));
});

test("a .ts module that is not there, with its .js beside it (a bundle), is the .js", () => {
  writeFileSync(join(dir, "bundled.js"), "");
  expect(builtModule(pathToFileURL(join(dir, "bundled.ts")))).toBe(join(dir, "bundled.js"));
  expect(builtModule(join(dir, "bundled.ts"))).toBe(join(dir, "bundled.js"));
});

test("with neither there, or not a .ts file, the module is left as given (its load reports it)", () => {
  const missing = pathToFileURL(join(dir, "missing.ts"));
  expect(builtModule(missing)).toBe(missing);
  expect(builtModule(join(dir, "plain.js"))).toBe(join(dir, "plain.js"));
  const remote = new URL("https://example.com/worker.ts");
  expect(builtModule(remote)).toBe(remote);
});
