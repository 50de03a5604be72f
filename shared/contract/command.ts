/**
 * The contracts command of a project: `check` compares every service under
 * `servicesDir` with its snapshot in `contractsDir`, `update
 * [--accept-breaking]` records them. One implementation for every caller —
 * `runnerly contracts check|update` in a project, `bun scripts/contracts.ts`
 * in the Runnerly repository — which differ only in folders and in the
 * command the messages tell people to run.
 */
import { basename } from "node:path";
import { checkContracts, formatReport, updateContracts } from "./check.ts";
import { loadServiceDefinitions } from "./load.ts";

export type ContractsCommandOptions = {
  /** The folder of the services (`<dir>/<name>/service.ts`). */
  servicesDir: string;
  /** The folder of the snapshots (`<dir>/<name>.json`). */
  contractsDir: string;
  /** The command that records snapshots, as failures name it, e.g. `npx runnerly contracts update`. */
  updateCommand: string;
  /** The usage line printed for bad arguments (default: derived from `updateCommand`). */
  usage?: string;
  /** Where lines go (default: stdout and stderr). */
  out?: (line: string) => void;
  err?: (line: string) => void;
};

/** Exit codes: 0 fine, 1 a breaking change, a missing snapshot or a refused update, 2 bad usage. */
export type ContractsExitCode = 0 | 1 | 2;

type Parsed = { command: "check" | "update"; acceptBreaking: boolean };

/** `check`, or `update` with at most `--accept-breaking`; null for anything else. */
function parseArgs(args: readonly string[]): Parsed | null {
  const [command, ...flags] = args;
  if (command === "check") return flags.length === 0 ? { command, acceptBreaking: false } : null;
  if (command !== "update") return null;
  if (flags.some((f) => f !== "--accept-breaking")) return null;
  return { command, acceptBreaking: flags.length > 0 };
}

/**
 * Runs `check` or `update [--accept-breaking]` and returns the exit code.
 * `check` prints the report and fails on a breaking change without a new
 * major version, a missing or orphaned snapshot, or a consumer problem;
 * `update` writes the snapshots it may and refuses breaking ones unless
 * accepted.
 *
 * @example
 * const code = await runContractsCommand(["check"], {
 *   servicesDir: "services",
 *   contractsDir: "contracts",
 *   updateCommand: "npx runnerly contracts update",
 * });
 * process.exit(code);
 */
export async function runContractsCommand(
  args: readonly string[],
  options: ContractsCommandOptions,
): Promise<ContractsExitCode> {
  const out = options.out ?? ((line: string) => console.log(line));
  const err = options.err ?? ((line: string) => console.error(line));
  const parsed = parseArgs(args);
  if (!parsed) {
    const base = options.updateCommand.replace(/\s+update$/, "");
    err(options.usage ?? `usage: ${base} check | update [--accept-breaking]`);
    return 2;
  }
  const defs = await loadServiceDefinitions(options.servicesDir);
  const format = { updateCommand: options.updateCommand };
  if (parsed.command === "check") {
    const report = await checkContracts(defs, options.contractsDir);
    out(formatReport(report, format));
    out(report.ok ? "contracts: no breaking change" : "contracts: check failed");
    return report.ok ? 0 : 1;
  }
  const { report, written, refused, removed } = await updateContracts(defs, options.contractsDir, {
    acceptBreaking: parsed.acceptBreaking,
  });
  // New snapshots are what `update` is for; only changes to existing ones are worth a report.
  out(formatReport({ ...report, results: report.results.filter((r) => r.status !== "no-snapshot") }, format));
  const folder = basename(options.contractsDir);
  for (const s of written) {
    const r = report.results.find((x) => x.service === s);
    const accepted = r?.status === "compared" && !r.verdict.ok;
    out(`wrote ${folder}/${s}.json${accepted ? " (breaking changes accepted)" : ""}`);
  }
  for (const s of removed) out(`removed ${folder}/${s}.json`);
  for (const s of refused) {
    err(`refused to record ${s}: breaking changes without a new major version (--accept-breaking to force)`);
  }
  if (report.consumers.length) err("consumer or task requester problems remain (see above)");
  return refused.length || report.consumers.length ? 1 : 0;
}
