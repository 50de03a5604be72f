/** Which project a launcher runs, and which edge and drizzle-kit it uses, from where it is started. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { edgeProgram } from "./dev-stack.ts";
import { findProjectRoot, projectBin } from "./project.ts";

const work = realpathSync(mkdtempSync(join(tmpdir(), "runnerly-project-")));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Writes `files` (path → content) under `work/<name>` and returns that folder. */
function folder(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe("findProjectRoot", () => {
  const workspaces = folder("ws", {
    "package.json": JSON.stringify({ workspaces: ["services/*"] }),
    "services/greeter/package.json": "{}",
    "services/greeter/db/schema.ts": "",
  });
  const plain = folder("plain", { "package.json": "{}", "services/a/main.ts": "", "lib/x.ts": "" });
  const none = folder("none", { "notes/a.txt": "" });

  test.each([
    ["the root itself", workspaces, workspaces],
    [
      "a service's folder (its own package.json has no workspaces)",
      join(workspaces, "services/greeter"),
      workspaces,
    ],
    ["a folder deeper in a service", join(workspaces, "services/greeter/db"), workspaces],
    ["a project with services/ and no workspaces", join(plain, "lib"), plain],
    ["no project above: the folder itself", join(none, "notes"), join(none, "notes")],
  ])("from %s", (_, from, root) => {
    expect(findProjectRoot(from)).toBe(root);
  });
});

describe("the programs a project installed", () => {
  const project = folder("installed", {
    "package.json": JSON.stringify({ workspaces: ["services/*"] }),
    "node_modules/@runnerly/edge/main.ts": "",
    "node_modules/drizzle-kit/bin.cjs": "",
    "services/greeter/main.ts": "",
  });
  mkdirSync(join(project, "node_modules/.bin"));
  symlinkSync("../@runnerly/edge/main.ts", join(project, "node_modules/.bin/runnerly-edge"));
  symlinkSync("../drizzle-kit/bin.cjs", join(project, "node_modules/.bin/drizzle-kit"));

  test("drizzle-kit is the project's, found from a service's folder", () => {
    expect(projectBin("drizzle-kit", join(project, "services/greeter"))).toBe(
      join(project, "node_modules/.bin/drizzle-kit"),
    );
    expect(projectBin("drizzle-kit", join(work, "none"))).toBeNull();
  });

  test("the edge: RUNNERLY_EDGE_MAIN, else the project's edge/main.ts, else the installed runnerly-edge", () => {
    expect(edgeProgram(project, {})).toBe(join(project, "node_modules/@runnerly/edge/main.ts"));
    expect(edgeProgram(project, { RUNNERLY_EDGE_MAIN: "/x/edge.ts" })).toBe("/x/edge.ts");
    const own = folder("own-edge", { "package.json": "{}", "edge/main.ts": "" });
    expect(edgeProgram(own, {})).toBe(join(own, "edge/main.ts"));
    expect(edgeProgram(join(work, "none"), {})).toBeNull();
  });
});
