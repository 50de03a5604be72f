/**
 * API stability: compares every service's contract with its snapshot under
 * `contracts/`, or records the current contracts there.
 *
 *   bun scripts/contracts.ts check                      exit 1 on a breaking change or a missing snapshot
 *   bun scripts/contracts.ts update [--accept-breaking] write the snapshots (breaking ones only with a new
 *                                                       major version, or when accepted)
 */
import { join } from "node:path";
import {
  checkContracts,
  formatReport,
  loadServiceDefinitions,
  updateContracts,
} from "@runnerly/kit/contract";

const root = join(import.meta.dir, "..");
export const SERVICES_DIR = join(root, "services");
export const CONTRACTS_DIR = join(root, "contracts");

async function main(args: string[]): Promise<number> {
  const [command, ...flags] = args;
  const unknown = flags.filter((f) => f !== "--accept-breaking");
  if (
    (command !== "check" && command !== "update") ||
    unknown.length > 0 ||
    (command === "check" && flags.length)
  ) {
    console.error("usage: bun scripts/contracts.ts check | update [--accept-breaking]");
    return 2;
  }
  const defs = await loadServiceDefinitions(SERVICES_DIR);
  if (command === "check") {
    const report = await checkContracts(defs, CONTRACTS_DIR);
    console.log(formatReport(report));
    console.log(report.ok ? "contracts: no breaking change" : "contracts: check failed");
    return report.ok ? 0 : 1;
  }
  const { report, written, refused, removed } = await updateContracts(defs, CONTRACTS_DIR, {
    acceptBreaking: flags.includes("--accept-breaking"),
  });
  // New snapshots are what `update` is for; only changes to existing ones are worth a report.
  console.log(formatReport({ ...report, results: report.results.filter((r) => r.status !== "no-snapshot") }));
  for (const s of written) {
    const r = report.results.find((x) => x.service === s);
    const accepted = r?.status === "compared" && !r.verdict.ok;
    console.log(`wrote contracts/${s}.json${accepted ? " (breaking changes accepted)" : ""}`);
  }
  for (const s of removed) console.log(`removed contracts/${s}.json`);
  for (const s of refused) {
    console.error(
      `refused to record ${s}: breaking changes without a new major version (--accept-breaking to force)`,
    );
  }
  if (report.consumers.length) console.error("consumer or task requester problems remain (see above)");
  return refused.length || report.consumers.length ? 1 : 0;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
