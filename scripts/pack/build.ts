/**
 * Builds one package's `dist/`: JavaScript and type declarations by tsc from
 * the package's tsconfig.build.json (one .js and one .d.ts per source file, the
 * `.ts` in relative imports rewritten to `.js`, so `import.meta.url` paths stay
 * as in the sources), plus the data folders that code reads beside itself.
 */

import { chmodSync, cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "@runnerly/kit/runtime";
import { isPackageName, PACKAGES, type PackageName, REPO_ROOT } from "./packages.ts";

/**
 * Writes `<outDir>` (default: the package's own `dist/`, which git ignores) from
 * the package's sources; throws with tsc's messages when they do not compile.
 *
 * @example
 * await buildPackage("kit", "/tmp/stage/dist");
 */
export async function buildPackage(name: PackageName, outDir?: string): Promise<string> {
  const pkg = PACKAGES[name];
  const packageDir = join(REPO_ROOT, pkg.dir);
  const out = outDir ?? join(packageDir, "dist");
  rmSync(out, { recursive: true, force: true });
  await compile(join(packageDir, "tsconfig.build.json"), out);
  for (const dir of pkg.dataDirs) cpSync(join(packageDir, dir), join(out, dir), { recursive: true });
  const runtime = "runtime" in pkg ? pkg.runtime : "bun";
  for (const program of pkg.programs) markProgram(join(out, program), runtime);
  return out;
}

async function compile(tsconfig: string, outDir: string): Promise<void> {
  const tsc = join(REPO_ROOT, "node_modules", ".bin", "tsc");
  const { code, out, err } = await runCommand([tsc, "-p", tsconfig, "--outDir", outDir]);
  if (code !== 0) throw new Error(`tsc -p ${tsconfig} failed:\n${out}${err}`);
}

/** A built program starts with its runtime's shebang (tsc drops or keeps the source's) and is executable. */
function markProgram(file: string, runtime: "bun" | "node"): void {
  const text = readFileSync(file, "utf8").replace(/^#!.*\n/, "");
  writeFileSync(file, `#!/usr/bin/env ${runtime}\n${text}`);
  chmodSync(file, 0o755);
}

if (import.meta.main) {
  const names = process.argv.slice(2);
  for (const name of names.length > 0 ? names : Object.keys(PACKAGES)) {
    if (!isPackageName(name)) {
      console.error(`unknown package ${name}: one of ${Object.keys(PACKAGES).join(", ")}`);
      process.exit(2);
    }
    console.log(await buildPackage(name));
  }
}
