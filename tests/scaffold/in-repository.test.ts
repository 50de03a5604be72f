/**
 * `runnerly new service greeter` leaves the repository green. In a copy of
 * the working tree (its tracked and untracked files, not what git ignores;
 * node_modules linked from this checkout, the workspaces pointing into the
 * copy), after the scaffold: `npm run lint` (biome on the whole copy), the
 * contract check, tsc over the new service, its own test, and every test that
 * enumerates the services — contracts, compose.yml, the layers, the dev
 * stack's NATS users (which starts greeter with the rest), the generated
 * permissions — all pass. The checkout itself is never touched.
 */

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { runCommand } from "@runnerly/kit/runtime";

setDefaultTimeout(60_000);

const root = resolve(import.meta.dir, "../..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
/** The tests that list the services and assert something of each, run in the copy with greeter there. */
const ENUMERATING_TESTS = [
  "contracts/contracts.test.ts",
  "deploy/compose.test.ts",
  "tests/layers.test.ts",
  "tests/permissions/permissions.test.ts",
  "scripts/dev/secure.test.ts",
];

/** Copies the files git would see (tracked and untracked, not ignored) and commits them in a new repository. */
async function copyWorkingTree(from: string, to: string): Promise<void> {
  const listed = await Bun.$`git ls-files -co --exclude-standard -z`.cwd(from).quiet().text();
  for (const file of listed.split("\0").filter(Boolean)) {
    if (!existsSync(join(from, file))) continue; // deleted but not yet committed
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(join(from, file), join(to, file));
  }
  const git = ["-c", "user.name=scaffold test", "-c", "user.email=scaffold@example.com"];
  await Bun.$`git init -q && git add -A && git ${git} commit -q -m copy`.cwd(to).quiet();
}

/**
 * node_modules of the copy: each installed package linked from this checkout,
 * except the workspace links (`@runnerly/*`), made again so that they point
 * into the copy; the install record copied, so `npm test` there installs nothing.
 */
function linkNodeModules(from: string, to: string): void {
  const modules = join(from, "node_modules");
  mkdirSync(join(to, "node_modules", "@runnerly"), { recursive: true });
  for (const entry of readdirSync(modules)) {
    if (entry === "@runnerly" || entry === ".package-lock.json") continue;
    symlinkSync(join(modules, entry), join(to, "node_modules", entry));
  }
  for (const pkg of readdirSync(join(modules, "@runnerly"))) {
    const target = readlinkSync(join(modules, "@runnerly", pkg)); // relative, e.g. ../../services/runs
    symlinkSync(target, join(to, "node_modules", "@runnerly", pkg));
  }
  copyFileSync(join(modules, ".package-lock.json"), join(to, "node_modules", ".package-lock.json"));
}

/** greeter, or greeter-2, … when the repository already has a service of that name. */
const NAME = ["greeter", ...Array.from({ length: 9 }, (_, i) => `greeter-${i + 2}`)].find(
  (n) => !existsSync(join(root, "services", n)),
)!;

let copy: string;
/** Runs a command in the copy; its output is part of the failure message. */
async function inCopy(cmd: string[]): Promise<{ code: number; output: string }> {
  const { code, out, err } = await runCommand(cmd, {
    cwd: copy,
    env: { ...process.env, PATH: `${join(copy, "node_modules", ".bin")}:${process.env.PATH ?? ""}` },
  });
  return { code, output: `$ ${cmd.join(" ")}\n${out}${err}` };
}
/** Expects exit 0, showing the command's output when it is not. */
async function passes(cmd: string[]): Promise<string> {
  const { code, output } = await inCopy(cmd);
  if (code !== 0) throw new Error(`exit ${code}:\n${output.slice(-6000)}`);
  return output;
}

let typecheck: Promise<{ code: number; output: string }>;
/**
 * tsc over the new service's folder, started while the other checks run (it
 * takes about 15 s alone). Nothing imports a new service, so its own folder
 * is all it can break.
 */
function typecheckService(name: string): Promise<{ code: number; output: string }> {
  // In the git-ignored .data/, so that lint does not see it.
  const config = { extends: "../tsconfig.json", include: [`../services/${name}`] };
  mkdirSync(join(copy, ".data"), { recursive: true });
  writeFileSync(join(copy, ".data", "tsconfig.scaffold.json"), JSON.stringify(config));
  return inCopy([bin("tsc"), "--noEmit", "-p", ".data/tsconfig.scaffold.json"]);
}

beforeAll(async () => {
  copy = mkdtempSync(join(tmpdir(), "runnerly-scaffold-copy-"));
  await copyWorkingTree(root, copy);
  linkNodeModules(root, copy);
});
afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe("runnerly new service greeter, in a copy of the repository", () => {
  test("scaffolds the service, its migration, its contract snapshot and its compose.yml entry", async () => {
    const made = await passes([process.execPath, "cli/main.ts", "new", "service", NAME]);
    expect(made).toContain(`created contracts/${NAME}.json`);
    typecheck = typecheckService(NAME);
    expect(made).toContain(`added ${NAME} to compose.yml`);
    expect(readdirSync(join(copy, "services", NAME, "drizzle")).filter((f) => f.endsWith(".sql"))).toEqual([
      "0000_init.sql",
    ]);
    const status = await passes(["git", "status", "--porcelain", "--untracked-files=all"]);
    const changed = status.split("\n").slice(1, -1).sort();
    expect(changed).toEqual([
      " M compose.yml",
      `?? contracts/${NAME}.json`,
      ...[
        "contract.ts",
        "db/schema.ts",
        "drizzle.config.ts",
        "drizzle/0000_init.sql",
        "drizzle/meta/0000_snapshot.json",
        "drizzle/meta/_journal.json",
        `${NAME}.test.ts`,
        "main.ts",
        "package.json",
        "routes.ts",
        "service.ts",
      ].map((f) => `?? services/${NAME}/${f}`),
    ]);
  });

  test("npm run lint: biome finds nothing in the whole copy", async () => {
    expect(await passes([bin("biome"), "check", "."])).not.toContain("Found");
  });

  test("npm run contracts -- check: greeter is compared with its snapshot, nothing breaks", async () => {
    const out = await passes([process.execPath, "scripts/contracts.ts", "check"]);
    expect(out).toContain(`✔ ${NAME}: unchanged`);
    expect(out).toContain("contracts: no breaking change");
  });

  test("its own test passes", async () => {
    expect(await passes([process.execPath, "test", `services/${NAME}`])).toContain("1 pass");
  });

  test("the tests that enumerate the services pass with greeter among them", async () => {
    const out = await passes([
      process.execPath,
      "--max-http-header-size=65536",
      "test",
      "--timeout",
      "30000",
      ...ENUMERATING_TESTS,
    ]);
    expect(out).toContain(" 0 fail");
  }, 150_000);

  test("tsc (the repository's strict settings) accepts the new service", async () => {
    const { code, output } = await typecheck;
    expect({ code, output }).toEqual({ code: 0, output: expect.any(String) });
  });
});
