/**
 * The packages this repository publishes: where each lives, the tsconfig that
 * builds its `dist/`, which data folders its built code reads beside itself,
 * and which built files are programs (`bin`). scripts/pack/pack.ts reads it.
 */
import { join } from "node:path";

export const REPO_ROOT = join(import.meta.dir, "..", "..");

export type PackableOptions = {
  /** The package's folder, relative to the repository root. */
  dir: string;
  /** Folders (relative to the package) that built code finds through `import.meta.url`: copied into dist/ too. */
  dataDirs: string[];
  /** Built files (relative to dist/) to start with `#!/usr/bin/env <runtime>` and mark executable. */
  programs: string[];
  /** What runs the programs (default bun); node for one that must run before Bun is installed. */
  runtime?: "bun" | "node";
};

export const PACKAGES = {
  kit: { dir: "shared", dataDirs: ["drizzle", "testing/fixture/drizzle"], programs: [] },
  edge: { dir: "edge", dataDirs: [], programs: [] },
  // Built from the repository's root (cli/ and the launcher it runs, scripts/dev/): dist/cli, dist/scripts/dev.
  cli: { dir: "cli", dataDirs: [], programs: ["cli/main.js"] },
  // `npm create runnerly`: runs on Node, before the project (and Bun) is installed.
  "create-runnerly": {
    dir: "create-runnerly",
    dataDirs: ["template"],
    programs: ["main.js"],
    runtime: "node",
  },
} as const satisfies Record<string, PackableOptions>;

export type PackageName = keyof typeof PACKAGES;

/** Whether a word names a packable package. */
export function isPackageName(name: string): name is PackageName {
  return Object.hasOwn(PACKAGES, name);
}
