/**
 * The kit's contracts command (`runContractsCommand`) over the real services
 * and a temporary snapshot folder: its usage errors, a missing snapshot that
 * names the caller's own update command, then update and a passing check.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runContractsCommand } from "@runnerly/kit/contract";

const work = mkdtempSync(join(tmpdir(), "runnerly-contracts-command-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const contractsDir = join(work, "contracts");
const servicesDir = join(import.meta.dir, "..", "..", "services");
const UPDATE = "npm run contracts -- update";

/** Runs the command with its lines captured. */
async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runContractsCommand(args, {
    servicesDir,
    contractsDir,
    updateCommand: UPDATE,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("runContractsCommand", () => {
  test("anything but check or update [--accept-breaking] is bad usage (2), naming the command", async () => {
    for (const args of [[], ["verify"], ["check", "--accept-breaking"], ["update", "--force"]]) {
      expect({ args, ...(await run(args)) }).toEqual({
        args,
        code: 2,
        out: "",
        err: "usage: npm run contracts -- check | update [--accept-breaking]",
      });
    }
    expect(existsSync(contractsDir)).toBe(false);
  });

  test("check without snapshots fails (1), telling the caller's own update command", async () => {
    const { code, out } = await run(["check"]);
    expect(code).toBe(1);
    expect(out).toContain("✘ runs: no snapshot (");
    expect(out).toContain("create it with `npm run contracts -- update` and commit it");
    expect(out).toEndWith("contracts: check failed");
  });

  test("update writes every snapshot; check then passes (0)", async () => {
    const updated = await run(["update"]);
    expect(updated.code).toBe(0);
    for (const name of ["accounts", "plans", "runs", "stats"])
      expect(updated.out).toContain(`wrote contracts/${name}.json`);
    const checked = await run(["check"]);
    expect(checked.code).toBe(0);
    expect(checked.out).toContain("✔ runs: unchanged");
    expect(checked.out).toEndWith("contracts: no breaking change");
  });
});
