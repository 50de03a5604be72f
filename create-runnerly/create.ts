/**
 * A new Runnerly project from the template this package holds (template/):
 * the greeter service with its contract, routes, migration and test, its
 * contract snapshot and the test that checks it (contracts/), Biome
 * and TypeScript settings, a README with the two commands (run everything,
 * run the tests), and a package.json with the services as workspaces and
 * the Runnerly packages of this release. Plain Node, no dependencies: it runs
 * before anything is installed (`npm create runnerly`).
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The template: beside this file in the sources and in the built package (dist/template). */
export const TEMPLATE_DIR = join(here, "template");

/**
 * Third-party packages the project itself uses: its services' code
 * (@hono/zod-openapi, drizzle-orm, the NATS client in tests) and tools
 * (Bun, drizzle-kit for migrations, Biome, TypeScript). The same ranges as
 * the Runnerly repository (create.test.ts holds them to it).
 */
export const PROJECT_DEPENDENCIES = {
  "@hono/zod-openapi": "^1.6.3",
  "@nats-io/nats-core": "^3.4.0",
  "@nats-io/transport-node": "^3.4.0",
  "drizzle-orm": "^0.45.4",
} as const;
export const PROJECT_DEV_DEPENDENCIES = {
  "@biomejs/biome": "2.3",
  "@types/bun": "^1.4.5",
  bun: "^1.4.5",
  "drizzle-kit": "^0.31.11",
  typescript: "^5.9.3",
} as const;

/**
 * Files stored under another name in the template: npm drops a package's
 * .gitignore, Biome refuses a second root config in this repository, and
 * `bun test services/greeter` or `bun test contracts/` here would run the
 * template's tests as well.
 */
const RENAMED: Record<string, string> = {
  gitignore: ".gitignore",
  "_biome.json": "biome.json",
  "services/greeter/greeter-test.template.ts": "services/greeter/greeter.test.ts",
  "contracts/contracts-test.template.ts": "contracts/contracts.test.ts",
};

const PROJECT_NAME = /^[a-z0-9][a-z0-9._-]{0,213}$/;

export type CreateOptions = {
  /** The Runnerly release the project depends on (default: this package's version). */
  version?: string;
  /** Make it a git repository (default: true, when git is installed). */
  git?: boolean;
};

/**
 * Writes the project into `target` (a new or empty folder) and returns its
 * absolute path. The project's name is the folder's name.
 *
 * @example
 * createProject("my-mesh"); // → "/home/ann/my-mesh", with services/greeter
 */
export function createProject(target: string, options: CreateOptions = {}): string {
  const dir = resolve(target);
  const name = basename(dir);
  if (!PROJECT_NAME.test(name))
    throw new Error(`"${name}" is not a project name: use lower-case letters, digits, dots, dashes`);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${target} exists and is not empty`);
  cpSync(TEMPLATE_DIR, dir, { recursive: true });
  for (const [stored, real] of Object.entries(RENAMED)) renameSync(join(dir, stored), join(dir, real));
  const readme = join(dir, "README.md");
  writeFileSync(readme, readFileSync(readme, "utf8").replaceAll("__NAME__", name));
  const manifest = projectManifest(name, options.version ?? releaseVersion());
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  if (options.git !== false) initGit(dir);
  return dir;
}

/**
 * The project's package.json: services as workspaces, the same script names
 * as the Runnerly repository, the kit, the edge and the CLI of `version`.
 *
 * @example
 * projectManifest("my-mesh", "0.1.0").dependencies["@runnerly/kit"]; // → "^0.1.0"
 */
export function projectManifest(name: string, version: string) {
  return {
    name,
    version: "0.1.0",
    private: true,
    type: "module",
    workspaces: ["services/*"],
    scripts: {
      dev: "exec runnerly dev",
      test: "bun test",
      lint: "biome check .",
      format: "biome format --write .",
      typecheck: "tsc --noEmit -p tsconfig.json",
      contracts: "runnerly contracts",
      build: "runnerly build",
      runnerly: "runnerly",
    },
    dependencies: {
      "@runnerly/cli": `^${version}`,
      "@runnerly/edge": `^${version}`,
      "@runnerly/kit": `^${version}`,
      ...PROJECT_DEPENDENCIES,
    },
    devDependencies: { ...PROJECT_DEV_DEPENDENCIES },
    // One copy of nats-core, as in the Runnerly repository: @nats-io/services pins a prerelease of its own.
    overrides: { "@nats-io/services": { "@nats-io/nats-core": "$@nats-io/nats-core" } },
  };
}

/** This package's version: the Runnerly release it makes projects for. */
export function releaseVersion(): string {
  // package.json is beside this file in the sources, one folder up from dist/.
  for (const file of [join(here, "package.json"), join(here, "..", "package.json")]) {
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
    if (manifest.name === "create-runnerly" && manifest.version) return manifest.version;
  }
  throw new Error(`create-runnerly's package.json not found beside ${here}`);
}

/** `git init` with the project's files unstaged; skipped quietly when git is not installed. */
function initGit(dir: string): void {
  spawnSync("git", ["init", "--quiet"], { cwd: dir, stdio: "ignore" });
}
