/**
 * The publishable packages work outside this repository: each is built and
 * packed as `npm run pack` does, its tarball holds no tests and nothing that
 * points back here, and a project in a temporary folder that installs the
 * kit's tarball (third-party dependencies from the registry or npm's cache)
 * runs a service written against it, answered over a real nats-server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { type PackedPackage, packPackage } from "../../scripts/pack/pack.ts";
import { REPO_ROOT } from "../../scripts/pack/packages.ts";

const CONSUMER = join(import.meta.dir, "consumer");
const BUILTIN = /^(node:|bun:|bun$)/;

let work: string;
let kit: PackedPackage;
let kitDir: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "runnerly-packages-"));
  kit = await packPackage("kit", join(work, "tarballs"));
  kitDir = join(work, "unpacked", "kit");
  mkdirSync(kitDir, { recursive: true });
  await run(["tar", "-xzf", kit.tarball, "-C", kitDir, "--strip-components=1"], work);
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the kit's tarball", () => {
  test("holds no tests, test data or build configuration, and no path outside the package", () => {
    expect(kit.files.length).toBeGreaterThan(0);
    const offending = kit.files.filter(
      (f) =>
        /\.test\.tsx?$/.test(f) ||
        /(^|\/)testdata\//.test(f) ||
        /(^|\/)drizzle\.config\.ts$/.test(f) ||
        f.startsWith("/") ||
        f.split("/").includes(".."),
    );
    expect(offending).toEqual([]);
    expect(kit.files).toEqual(
      expect.arrayContaining(["LICENSE", "README.md", "dist/mod.js", "dist/mod.d.ts"]),
    );
  });

  test("serves every export from files it holds, sources for Bun and built JavaScript with declarations for the rest", () => {
    const manifest = JSON.parse(readFileSync(join(kitDir, "package.json"), "utf8"));
    const missing: string[] = [];
    for (const [entry, targets] of Object.entries(
      manifest.exports as Record<string, Record<string, string>>,
    )) {
      expect(Object.keys(targets)).toEqual(expect.arrayContaining(["bun", "types", "import", "default"]));
      expect(targets.types).toMatch(/^\.\/dist\/.*\.d\.ts$/);
      expect(targets.import).toMatch(/^\.\/dist\/.*\.js$/);
      for (const target of Object.values(targets)) {
        if (!kit.files.includes(target.slice(2))) missing.push(`${entry} → ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test("depends only on registry versions and declares every package its code imports", () => {
    const manifest = JSON.parse(readFileSync(join(kitDir, "package.json"), "utf8"));
    const dependencies: Record<string, string> = manifest.dependencies;
    expect(Object.values(dependencies).filter((v) => /^(workspace|file|link|git)/.test(v))).toEqual([]);
    const undeclared = new Set<string>();
    for (const { file, specifier } of importsIn(kitDir)) {
      if (specifier.startsWith(".") || BUILTIN.test(specifier)) continue;
      const name = specifier.startsWith("@")
        ? specifier.split("/").slice(0, 2).join("/")
        : specifier.split("/")[0];
      if (name !== manifest.name && !(name! in dependencies)) undeclared.add(`${name} (${file})`);
    }
    expect([...undeclared]).toEqual([]);
  });

  test("points nowhere outside itself: no relative import leaves it, no file names this repository's path", () => {
    const escaping = importsIn(kitDir)
      .filter(({ specifier }) => specifier.startsWith("."))
      .filter(({ file, specifier }) =>
        relative(kitDir, resolve(kitDir, dirname(file), specifier)).startsWith(".."),
      )
      .map(({ file, specifier }) => `${file}: ${specifier}`);
    expect(escaping).toEqual([]);
    const naming = filesUnder(kitDir).filter((f) =>
      readFileSync(join(kitDir, f), "utf8").includes(REPO_ROOT),
    );
    expect(naming).toEqual([]);
  });
});

test("a project outside the repository installs the kit's tarball and runs a service on it, answered over NATS", async () => {
  const project = join(work, "consumer");
  expect(relative(REPO_ROOT, project).startsWith("..")).toBe(true);
  cpSync(CONSUMER, project, { recursive: true });
  await run(["npm", "install", kit.tarball, "--no-audit", "--no-fund", "--prefer-offline"], project);

  const output = await run([process.execPath, "check.ts"], project);
  const seen = JSON.parse(output.trim().split("\n").at(-1)!);
  expect(seen.reply).toEqual({ status: 200, body: { hello: "outside" } });
  // Bun ran the installed package (its "bun" condition), not this repository's sources.
  expect(seen.resolved).toBe(`file://${join(project, "node_modules/@runnerly/kit/mod.ts")}`);
  expect(seen.builtDefineService).toBe("function");
}, 80_000);

/** Runs a command to completion in `cwd`; throws with its output when it fails. */
async function run(command: string[], cwd: string): Promise<string> {
  const proc = Bun.spawn(command, { cwd, stdout: "pipe", stderr: "pipe", env: process.env });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${command.join(" ")} exited ${code}:\n${stdout}\n${stderr}`);
  return stdout;
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
