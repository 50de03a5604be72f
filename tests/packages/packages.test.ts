/**
 * The publishable packages work outside this repository: each is built and
 * packed as `npm run pack` does, its tarball holds no tests and nothing that
 * points back here, and a project in a temporary folder that installs the
 * kit's and the edge's tarballs (third-party dependencies from the registry or
 * npm's cache) runs a service written against the kit and the edge in front of
 * it, answered over a real nats-server and through the edge.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { runCommand } from "@runnerly/kit/runtime";
import { type PackedPackage, packPackage } from "../../scripts/pack/pack.ts";
import { type PackageName, REPO_ROOT } from "../../scripts/pack/packages.ts";

const CONSUMER = join(import.meta.dir, "consumer");
const BUILTIN = /^(node:|bun:|bun$)/;

/** The libraries (the CLI and create-runnerly are programs: tests/template packs and runs them). */
type Library = Extract<PackageName, "kit" | "edge">;
const NAMES: Library[] = ["kit", "edge"];
/** Each package's main module (its "." export). */
const MAIN: Record<Library, string> = { kit: "mod", edge: "app" };

let work: string;
const packed = {} as Record<Library, PackedPackage & { dir: string }>;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "runnerly-packages-"));
  await Promise.all(
    NAMES.map(async (name) => {
      const tarball = await packPackage(name, join(work, "tarballs"));
      const dir = join(work, "unpacked", name);
      mkdirSync(dir, { recursive: true });
      await run(["tar", "-xzf", tarball.tarball, "-C", dir, "--strip-components=1"], work);
      packed[name] = { ...tarball, dir };
    }),
  );
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.each(NAMES)("the %s tarball", (name) => {
  test("holds no tests, test data or build configuration, and no path outside the package", () => {
    expect(packed[name].files.length).toBeGreaterThan(0);
    const offending = packed[name].files.filter(
      (f) =>
        /\.test\.tsx?$/.test(f) ||
        /(^|\/)testdata\//.test(f) ||
        /(^|\/)drizzle\.config\.ts$/.test(f) ||
        f.startsWith("/") ||
        f.split("/").includes(".."),
    );
    expect(offending).toEqual([]);
    expect(packed[name].files).toEqual(
      expect.arrayContaining(["LICENSE", "README.md", `dist/${MAIN[name]}.js`, `dist/${MAIN[name]}.d.ts`]),
    );
  });

  test("serves every export from files it holds, sources for Bun and built JavaScript with declarations for the rest", () => {
    const manifest = JSON.parse(readFileSync(join(packed[name].dir, "package.json"), "utf8"));
    const missing: string[] = [];
    for (const [entry, targets] of Object.entries(
      manifest.exports as Record<string, Record<string, string>>,
    )) {
      expect(Object.keys(targets)).toEqual(expect.arrayContaining(["bun", "types", "import", "default"]));
      expect(targets.types).toMatch(/^\.\/dist\/.*\.d\.ts$/);
      expect(targets.import).toMatch(/^\.\/dist\/.*\.js$/);
      for (const target of Object.values(targets)) {
        if (!packed[name].files.includes(target.slice(2))) missing.push(`${entry} → ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test("depends only on registry versions and declares every package its code imports", () => {
    const manifest = JSON.parse(readFileSync(join(packed[name].dir, "package.json"), "utf8"));
    const dependencies: Record<string, string> = manifest.dependencies;
    expect(Object.values(dependencies).filter((v) => /^(workspace|file|link|git)/.test(v))).toEqual([]);
    const undeclared = new Set<string>();
    for (const { file, specifier } of importsIn(packed[name].dir)) {
      if (specifier.startsWith(".") || BUILTIN.test(specifier)) continue;
      const name = specifier.startsWith("@")
        ? specifier.split("/").slice(0, 2).join("/")
        : specifier.split("/")[0];
      if (name !== manifest.name && !(name! in dependencies)) undeclared.add(`${name} (${file})`);
    }
    expect([...undeclared]).toEqual([]);
  });

  test("points nowhere outside itself: no relative import leaves it, no file names this repository's path", () => {
    const escaping = importsIn(packed[name].dir)
      .filter(({ specifier }) => specifier.startsWith("."))
      .filter(({ file, specifier }) =>
        relative(packed[name].dir, resolve(packed[name].dir, dirname(file), specifier)).startsWith(".."),
      )
      .map(({ file, specifier }) => `${file}: ${specifier}`);
    expect(escaping).toEqual([]);
    const naming = filesUnder(packed[name].dir).filter((f) =>
      readFileSync(join(packed[name].dir, f), "utf8").includes(REPO_ROOT),
    );
    expect(naming).toEqual([]);
  });
});

test("a project outside the repository installs the tarballs and runs a service on the kit behind the edge", async () => {
  const project = join(work, "consumer");
  expect(relative(REPO_ROOT, project).startsWith("..")).toBe(true);
  cpSync(CONSUMER, project, { recursive: true });
  const tarballs = NAMES.map((n) => packed[n].tarball);
  await run(["npm", "install", ...tarballs, "--no-audit", "--no-fund", "--prefer-offline"], project);

  const output = await run([process.execPath, "check.ts"], project);
  const seen = JSON.parse(output.trim().split("\n").at(-1)!);
  expect(seen.reply).toEqual({ status: 200, body: { hello: "outside" } });
  expect(seen.viaEdge).toEqual({ status: 200, body: { hello: "edge" } });
  // Bun ran the installed package (its "bun" condition), not this repository's sources.
  expect(seen.resolved).toBe(`file://${join(project, "node_modules/@runnerly/kit/mod.ts")}`);
  expect(seen.builtDefineService).toBe("function");
}, 80_000);

/** Runs a command to completion in `cwd`; throws with its output when it fails. */
async function run(command: string[], cwd: string): Promise<string> {
  const { code, out, err } = await runCommand(command, { cwd });
  if (code !== 0) throw new Error(`${command.join(" ")} exited ${code}:\n${out}\n${err}`);
  return out;
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string, sub = ""): string[] {
  return readdirSync(join(dir, sub)).flatMap((name) => {
    const path = join(sub, name);
    return statSync(join(dir, path)).isDirectory() ? filesUnder(dir, path) : [path];
  });
}

/** The module specifiers of every import, export-from and dynamic import in the package's code. */
function importsIn(dir: string): { file: string; specifier: string }[] {
  const pattern =
    /\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm;
  return filesUnder(dir)
    .filter((f) => /\.(ts|tsx|js)$/.test(f))
    .flatMap((file) => {
      const code = readFileSync(join(dir, file), "utf8").replace(/^\s*(\/\/|\/?\*).*$/gm, "");
      return [...code.matchAll(pattern)].map((m) => ({ file, specifier: (m[1] ?? m[2] ?? m[3])! }));
    });
}
