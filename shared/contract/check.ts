/**
 * The contract check and the snapshot update over a set of services: each
 * current contract against its snapshot, plus every consumer against its
 * producer and every requester against the owners of the tasks it submits. What
 * `runContractsCommand` (`runnerly contracts check|update`) and a project's
 * `contracts/contracts.test.ts` run.
 */
import { relative } from "node:path";
import { formatChange, judge, type Verdict } from "./compare.ts";
import { checkConsumers } from "./consumers.ts";
import { type AnyServiceDefinition, type InspectedService, inspectService } from "./extract.ts";
import { readSnapshot, removeSnapshot, snapshotFile, snapshotServices, writeSnapshot } from "./snapshot.ts";
import type { Change } from "./types.ts";

export type ServiceResult =
  | { service: string; status: "no-snapshot"; file: string }
  | { service: string; status: "removed"; file: string }
  | { service: string; status: "compared"; verdict: Verdict };

export type CheckReport = {
  results: ServiceResult[];
  /**
   * Consumers declaring event versions their producer doesn't publish or can't
   * decode, and submitted tasks their owner doesn't work (or can't agree on).
   */
  consumers: Change[];
  /** Nothing breaking (or only allowed by a major version), every service snapshotted, consumers fine. */
  ok: boolean;
  inspected: InspectedService[];
};

/**
 * Compares every service with its snapshot in `dir`.
 *
 * @example
 * const report = await checkContracts(await loadServiceDefinitions("services"), "contracts");
 * if (!report.ok) console.error(formatReport(report));
 */
export async function checkContracts(defs: AnyServiceDefinition[], dir: string): Promise<CheckReport> {
  const inspected: InspectedService[] = [];
  for (const def of defs) inspected.push(await inspectService(def));
  const results: ServiceResult[] = inspected.map(({ contract }) => {
    const snapshot = readSnapshot(dir, contract.service);
    if (!snapshot)
      return { service: contract.service, status: "no-snapshot", file: snapshotFile(dir, contract.service) };
    return { service: contract.service, status: "compared", verdict: judge(snapshot, contract) };
  });
  const names = new Set(defs.map((d) => d.name));
  for (const service of snapshotServices(dir)) {
    if (!names.has(service)) results.push({ service, status: "removed", file: snapshotFile(dir, service) });
  }
  const consumers = checkConsumers(inspected);
  const ok = consumers.length === 0 && results.every((r) => r.status === "compared" && r.verdict.ok);
  return { results, consumers, ok, inspected };
}

export type UpdateResult = { report: CheckReport; written: string[]; refused: string[]; removed: string[] };

/**
 * Writes the current contracts as snapshots, except where that would record a
 * breaking change without a new major version (unless `acceptBreaking`).
 */
export async function updateContracts(
  defs: AnyServiceDefinition[],
  dir: string,
  options: { acceptBreaking?: boolean } = {},
): Promise<UpdateResult> {
  const report = await checkContracts(defs, dir);
  const out: UpdateResult = { report, written: [], refused: [], removed: [] };
  for (const r of report.results) {
    if (r.status === "removed") {
      if (options.acceptBreaking) {
        removeSnapshot(dir, r.service);
        out.removed.push(r.service);
      } else out.refused.push(r.service);
      continue;
    }
    if (r.status === "compared" && !r.verdict.ok && !options.acceptBreaking) {
      out.refused.push(r.service);
      continue;
    }
    const contract = report.inspected.find((i) => i.contract.service === r.service)?.contract;
    if (contract && writeSnapshot(dir, contract)) out.written.push(r.service);
  }
  return out;
}

/** The command that records snapshots, as the report names it when nothing else is said. */
export const DEFAULT_UPDATE_COMMAND = "npx runnerly contracts update";

export type FormatOptions = {
  /** The command the project runs to record snapshots (default `npx runnerly contracts update`). */
  updateCommand?: string;
};

/**
 * The report as lines a person reads: one block per service, then the
 * consumers. Each failure says what to run, naming `updateCommand`.
 *
 * @example
 * formatReport(report, { updateCommand: "npm run contracts -- update" });
 * // "✘ notes: no snapshot (contracts/notes.json); create it with `npm run contracts -- update` and commit it"
 */
export function formatReport(report: CheckReport, options: FormatOptions = {}): string {
  const update = options.updateCommand ?? DEFAULT_UPDATE_COMMAND;
  const lines: string[] = [];
  const file = (path: string) => relative(process.cwd(), path) || path;
  for (const r of report.results) {
    if (r.status === "no-snapshot") {
      lines.push(`✘ ${r.service}: no snapshot (${file(r.file)}); create it with \`${update}\` and commit it`);
      continue;
    }
    if (r.status === "removed") {
      lines.push(
        `✘ ${r.service}: service removed but ${file(r.file)} remains (breaking); ` +
          `\`${update} --accept-breaking\` deletes it`,
      );
      continue;
    }
    const { breaking, additive, majorBumped, ok } = r.verdict;
    const head = breaking.length
      ? `${breaking.length} breaking change${breaking.length === 1 ? "" : "s"}${majorBumped ? " (allowed: new major version)" : ""}`
      : additive.length
        ? `${additive.length} additive change${additive.length === 1 ? "" : "s"}`
        : "unchanged";
    lines.push(`${ok ? "✔" : "✘"} ${r.service}: ${head}`);
    for (const c of breaking) lines.push(`    ${majorBumped ? "!" : "✘"} ${formatChange(c)}`);
    for (const c of additive) lines.push(`    + ${formatChange(c)}`);
    if (!ok) {
      const { snapshot, current } = r.verdict.versions;
      lines.push(
        `    breaking changes need a new major version of ${r.service} (snapshot ${snapshot}, now ${current}); ` +
          `or record them anyway with \`${update} --accept-breaking\``,
      );
    } else if (breaking.length || additive.length) {
      lines.push(`    record it with \`${update}\``);
    }
  }
  for (const c of report.consumers) lines.push(`✘ ${formatChange(c)}`);
  return lines.join("\n");
}
