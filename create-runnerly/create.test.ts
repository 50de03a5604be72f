/** create-runnerly writes a whole project from its template, with the versions of this release. */

import { afterAll, expect, test } from "bun:test";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { extractContract, snapshotText } from "@runnerly/kit/contract";
import { runCommand } from "@runnerly/kit/runtime";
import {
  createProject,
  PROJECT_DEPENDENCIES,
  PROJECT_DEV_DEPENDENCIES,
  releaseVersion,
  TEMPLATE_DIR,
} from "./create.ts";
import { service as greeter } from "./template/services/greeter/service.ts";

const repo = join(import.meta.dir, "..");
const manifestOf = (dir: string) => JSON.parse(readFileSync(join(repo, dir, "package.json"), "utf8"));
const work = mkdtempSync(join(tmpdir(), "create-runnerly-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

test("the project has the greeter, its settings, a README naming it, and depends on this release", () => {
  const dir = createProject(join(work, "my-mesh"), { git: false });
  expect(readdirSync(dir).sort()).toEqual([
    ".gitignore",
    "README.md",
    "biome.json",
    "contracts",
    "package.json",
    "services",
    "tsconfig.json",
  ]);
  expect(readdirSync(join(dir, "contracts")).sort()).toEqual(["contracts.test.ts", "greeter.json"]);
  for (const file of [
    "main.ts",
    "service.ts",
    "contract.ts",
    "routes.ts",
    "greeter.test.ts",
    "drizzle/0000_init.sql",
  ])
    expect(existsSync(join(dir, "services", "greeter", file))).toBe(true);
  expect(readFileSync(join(dir, "README.md"), "utf8")).toStartWith("# my-mesh\n");
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  expect(manifest).toMatchObject({
    name: "my-mesh",
    workspaces: ["services/*"],
    scripts: {
      dev: "exec runnerly dev",
      test: "bun test",
      contracts: "runnerly contracts",
      build: "runnerly build",
    },
  });
  expect(manifest.overrides).toEqual(manifestOf(".").overrides);
  for (const name of ["@runnerly/kit", "@runnerly/edge", "@runnerly/cli"])
    expect(manifest.dependencies[name]).toBe(`^${releaseVersion()}`);
});

test("the template's contract snapshot is what the extraction makes of its greeter now", async () => {
  const stored = readFileSync(join(TEMPLATE_DIR, "contracts", "greeter.json"), "utf8");
  expect(stored).toBe(snapshotText(await extractContract(greeter)));
});

/** `bun test contracts` in a project: its exit code and what it printed. */
async function contractTest(dir: string) {
  const { code, out, err } = await runCommand([process.execPath, "test", "contracts"], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { code, out: out + err };
}

test("the project's contract test passes as made, and fails on a breaking change or a missing snapshot", async () => {
  const dir = createProject(join(work, "checked"), { git: false });
  // This repository's packages stand in for the installed ones.
  symlinkSync(join(repo, "node_modules"), join(dir, "node_modules"));
  expect((await contractTest(dir)).code).toBe(0);

  const file = join(dir, "contracts", "greeter.json");
  const snapshot = JSON.parse(readFileSync(file, "utf8"));
  snapshot.openapi.paths["/api/greeter/farewell"] = snapshot.openapi.paths["/api/greeter/hello"];
  writeFileSync(file, JSON.stringify(snapshot, null, 2));
  const broken = await contractTest(dir);
  expect(broken.code).toBe(1);
  expect(broken.out).toContain("✘ greeter: 1 breaking change");
  expect(broken.out).toContain("/api/greeter/farewell");

  unlinkSync(file);
  const missing = await contractTest(dir);
  expect(missing.code).toBe(1);
  expect(missing.out).toContain("create it with `npx runnerly contracts update` and commit it");
});

test("the Runnerly packages and create-runnerly are released together, one version", () => {
  const versions = ["shared", "edge", "cli", "create-runnerly"].map((dir) => manifestOf(dir).version);
  expect(new Set(versions)).toEqual(new Set([releaseVersion()]));
});

test("the project's third-party packages are those this repository uses, in the same ranges", () => {
  const root = manifestOf(".");
  const used = { ...root.dependencies, ...root.devDependencies };
  for (const [name, range] of Object.entries({ ...PROJECT_DEPENDENCIES, ...PROJECT_DEV_DEPENDENCIES }))
    expect({ name, range }).toEqual({ name, range: used[name] });
});

test("a folder that is not empty or a name npm would refuse is refused before anything is written", () => {
  createProject(join(work, "taken"), { git: false });
  expect(() => createProject(join(work, "taken"), { git: false })).toThrow("is not empty");
  expect(() => createProject(join(work, "My Mesh"), { git: false })).toThrow("is not a project name");
  expect(existsSync(join(work, "My Mesh"))).toBe(false);
});
