/** The report writer keeps what is written by hand around the generated block. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BEGIN, END, writeReport } from "./markdown.ts";

const dir = mkdtempSync(join(tmpdir(), "bench-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("creates the file with a title and the block", () => {
  const path = join(dir, "new.md");
  writeReport(path, "first");
  const text = readFileSync(path, "utf8");
  expect(text.startsWith("# Benchmarks")).toBe(true);
  expect(text).toContain(`${BEGIN}\nfirst\n${END}`);
});

test("replaces only the generated block", () => {
  const path = join(dir, "kept.md");
  writeFileSync(
    path,
    `# Title\n\nintro by hand\n\n${BEGIN}\nold figures\n${END}\n\n## What we learnt\n\nanalysis\n`,
  );
  writeReport(path, "new figures");
  expect(readFileSync(path, "utf8")).toBe(
    `# Title\n\nintro by hand\n\n${BEGIN}\nnew figures\n${END}\n\n## What we learnt\n\nanalysis\n`,
  );
});
