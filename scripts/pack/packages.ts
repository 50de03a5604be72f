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
  /** Built files (relative to dist/) to start with `#!/usr/bin/env bun` and mark executable. */
  programs: string[];
};

export const PACKAGES = {
  kit: { dir: "shared", dataDirs: ["drizzle", "testing/fixture/drizzle"], programs: [] },
  edge: { dir: "edge", dataDirs: [], programs: [] },
  // Built from the repository's root (cli/ and the launcher it runs, scripts/dev/): dist/cli, dist/scripts/dev.
  cli: { dir: "cli", dataDirs: [], programs: ["cli/main.js"] },
} as const satisfies Record<string, PackableOptions>;

export type PackageName = keyof typeof PACKAGES;

/** Whether a word names a packable package. */
export function isPackageName(name: string): name is PackageName {
  return Object.hasOwn(PACKAGES, name);
}
