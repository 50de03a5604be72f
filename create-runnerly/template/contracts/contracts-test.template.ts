/**
 * API stability: each service's current contract (its OpenAPI document, RPC
 * and event schemas, the event versions it consumes) against its committed
 * snapshot in this folder, and every consumer against its producer. A
 * failure lists each breaking change and what to run; see "API stability"
 * in the README.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { checkContracts, formatReport, loadServiceDefinitions } from "@runnerly/kit/contract";

test("no service breaks its committed contract, and every service has a snapshot", async () => {
  const defs = await loadServiceDefinitions(join(import.meta.dir, "..", "services"));
  expect(defs.length).toBeGreaterThan(0);
  const report = await checkContracts(defs, import.meta.dir);
  // The whole report on failure: which service, which route, field or event, and what to run.
  if (!report.ok) throw new Error(`contract check failed:\n${formatReport(report)}`);
  expect(report.results.map((r) => r.status)).toEqual(defs.map(() => "compared"));
});
