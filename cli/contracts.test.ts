/**
 * `runnerly contracts check|update` as a process, run from a service's
 * folder in a small project outside this repository: it finds the project,
 * tells its own update command, records the snapshot, and deletes a removed
 * service's snapshot only with --accept-breaking.
 */

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "@runnerly/kit/runtime";

setDefaultTimeout(30_000);

const repo = join(import.meta.dir, "..");
const project = mkdtempSync(join(tmpdir(), "runnerly-contracts-cli-"));
const serviceDir = join(project, "services", "fixture");
afterAll(() => rmSync(project, { recursive: true, force: true }));

// A project of one service (the kit's fixture), with this repository's packages installed.
writeFileSync(join(project, "package.json"), JSON.stringify({ name: "p", workspaces: ["services/*"] }));
symlinkSync(join(repo, "node_modules"), join(project, "node_modules"));
mkdirSync(serviceDir, { recursive: true });
writeFileSync(
  join(serviceDir, "service.ts"),
  'import { fixtureService } from "@runnerly/kit/testing/fixture";\nexport const service = fixtureService();\n',
);

/** `runnerly contracts …` from the service's folder. */
async function contracts(...args: string[]) {
  return runCommand([process.execPath, join(import.meta.dir, "main.ts"), "contracts", ...args], {
    cwd: serviceDir,
    env: { ...process.env, NO_COLOR: "1" },
  });
}

describe("runnerly contracts", () => {
  test("check without a snapshot fails, telling the project's own command", async () => {
    const { code, out } = await contracts("check");
    expect(code).toBe(1);
    expect(out).toContain(
      "✘ fixture: no snapshot (../../contracts/fixture.json); create it with `npx runnerly contracts update` and commit it",
    );
    expect(out).toContain("contracts: check failed");
  });

  test("update records it in the project's contracts/; check then passes", async () => {
    const updated = await contracts("update");
    expect({ code: updated.code, err: updated.err }).toEqual({ code: 0, err: "" });
    expect(updated.out).toContain("wrote contracts/fixture.json");
    expect(existsSync(join(project, "contracts", "fixture.json"))).toBe(true);
    const checked = await contracts("check");
    expect(checked.code).toBe(0);
    expect(checked.out).toContain("✔ fixture: unchanged\ncontracts: no breaking change");
  });

  test("a removed service's snapshot: check fails, update refuses, update --accept-breaking deletes it", async () => {
    const gone = join(project, "contracts", "gone.json");
    copyFileSync(join(project, "contracts", "fixture.json"), gone);
    const checked = await contracts("check");
    expect(checked.code).toBe(1);
    expect(checked.out).toContain("`npx runnerly contracts update --accept-breaking` deletes it");
    const refused = await contracts("update");
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("refused to record gone");
    expect(existsSync(gone)).toBe(true);
    const accepted = await contracts("update", "--accept-breaking");
    expect(accepted.code).toBe(0);
    expect(accepted.out).toContain("removed contracts/gone.json");
    expect(existsSync(gone)).toBe(false);
    expect((await contracts("check")).code).toBe(0);
  });

  test("bad usage: a missing subcommand or an unknown option exits 2", async () => {
    expect((await contracts()).code).toBe(2);
    const unknown = await contracts("update", "--accept-braking");
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("did you mean --accept-breaking?");
  });
});
