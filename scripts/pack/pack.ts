/**
 * `npm run pack -- [kit …] [--out <dir>]`: packs the publishable packages into
 * tarballs without touching the working tree. Each package is copied to a
 * staging folder (sources, package.json, README; no node_modules, no dist),
 * built there (scripts/pack/build.ts), given the repository's LICENSE, and
 * packed by `npm pack`, so its `files` list decides what ships.
 *
 *   bun scripts/pack/pack.ts                 every package, tarballs in .data/pack
 *   bun scripts/pack/pack.ts kit --out /tmp/t
 */

import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { runCommand } from "@runnerly/kit/runtime";
import { buildPackage } from "./build.ts";
import { isPackageName, PACKAGES, type PackageName, REPO_ROOT } from "./packages.ts";

export type PackedPackage = {
  name: string;
  /** Absolute path of the .tgz. */
  tarball: string;
  /** Paths inside the package, as npm lists them. */
  files: string[];
  /** Bytes of the .tgz. */
  size: number;
};

/**
 * Builds and packs one package into `outDir`.
 *
 * @example
 * const kit = await packPackage("kit", "/tmp/tarballs");
 * console.log(kit.tarball, kit.files.length);
 */
export async function packPackage(name: PackageName, outDir: string): Promise<PackedPackage> {
  const stage = mkdtempSync(join(tmpdir(), `runnerly-pack-${name}-`));
  try {
    copySources(join(REPO_ROOT, PACKAGES[name].dir), stage);
    cpSync(join(REPO_ROOT, "LICENSE"), join(stage, "LICENSE"));
    await buildPackage(name, join(stage, "dist"));
    mkdirSync(outDir, { recursive: true });
    return await npmPack(stage, outDir);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function copySources(from: string, to: string): void {
  const skip = new Set(["node_modules", "dist"]);
  cpSync(from, to, { recursive: true, filter: (src) => src === from || !skip.has(basename(src)) });
}

async function npmPack(stage: string, outDir: string): Promise<PackedPackage> {
  // --ignore-scripts: the package is built already; nothing of the repository's runs here.
  const { code, out, err } = await runCommand(
    ["npm", "pack", "--json", "--ignore-scripts", "--pack-destination", outDir],
    { cwd: stage },
  );
  if (code !== 0) throw new Error(`npm pack in ${stage} failed:\n${err}`);
  const [report] = JSON.parse(out) as {
    name: string;
    filename: string;
    size: number;
    files: { path: string }[];
  }[];
  if (!report) throw new Error(`npm pack in ${stage} reported nothing`);
  return {
    name: report.name,
    tarball: join(outDir, report.filename),
    files: report.files.map((f) => f.path),
    size: report.size,
  };
}

/** `[names…] [--out <dir>]` → the packages to pack (all when none is named) and where. */
function parseArgs(args: string[]): { names: string[]; outDir: string } {
  const outAt = args.indexOf("--out");
  const outDir = outAt >= 0 ? args[outAt + 1] : undefined;
  if (outAt >= 0 && outDir === undefined) throw new Error("--out needs a folder");
  const names = args.filter((_, i) => outAt < 0 || (i !== outAt && i !== outAt + 1));
  return {
    names: names.length > 0 ? names : Object.keys(PACKAGES),
    outDir: resolve(outDir ?? join(REPO_ROOT, ".data", "pack")),
  };
}

if (import.meta.main) {
  const { names, outDir } = parseArgs(process.argv.slice(2));
  const unknown = names.filter((n) => !isPackageName(n));
  if (unknown.length > 0) {
    console.error(`unknown package ${unknown.join(", ")}: one of ${Object.keys(PACKAGES).join(", ")}`);
    process.exit(2);
  }
  for (const name of names as PackageName[]) {
    const packed = await packPackage(name, outDir);
    console.log(`${packed.tarball}  ${packed.files.length} files, ${(packed.size / 1024).toFixed(0)} KB`);
  }
}
