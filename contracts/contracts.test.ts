/**
 * API stability of the real services: each service's current contract
 * (OpenAPI document, RPC and event schemas) against its committed snapshot
 * in this folder, and every consumer against its producer. A failure lists
 * each breaking change; see "API stability" in the README.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { checkContracts, formatReport, loadServiceDefinitions } from "../shared/contract/index.ts";
import { runScript } from "../shared/testing/run-script.ts";

const root = join(import.meta.dir, "..");
const UPDATE = "bun scripts/contracts.ts update";

test("no service breaks its committed contract, and every consumer's event versions are published", async () => {
  const defs = await loadServiceDefinitions(join(root, "services"));
  expect(defs.length).toBeGreaterThan(0);
  const report = await checkContracts(defs, import.meta.dir);
  // The whole report on failure: which service, which route, field or event, and what to do.
  if (!report.ok)
    throw new Error(`contract check failed:\n${formatReport(report, { updateCommand: UPDATE })}`);
  expect(report.results.map((r) => r.status)).toEqual(defs.map(() => "compared"));
});

test("`bun scripts/contracts.ts check` passes on the repository", async () => {
  const { code, out, err } = await runScript(join(root, "scripts/contracts.ts"), ["check"], process.env);
  expect({ code, err }).toEqual({ code: 0, err: "" });
  expect(out).toContain("contracts: no breaking change");
});
