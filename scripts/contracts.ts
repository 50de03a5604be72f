/**
 * API stability: compares every service's contract with its snapshot under
 * `contracts/`, or records the current contracts there.
 *
 *   bun scripts/contracts.ts check                      exit 1 on a breaking change or a missing snapshot
 *   bun scripts/contracts.ts update [--accept-breaking] write the snapshots (breaking ones only with a new
 *                                                       major version, or when accepted)
 *
 * The kit's `runContractsCommand` does the work, as it does for `runnerly contracts`.
 */
import { join } from "node:path";
import { runContractsCommand } from "@runnerly/kit/contract";

const root = join(import.meta.dir, "..");
export const SERVICES_DIR = join(root, "services");
export const CONTRACTS_DIR = join(root, "contracts");
export const UPDATE_COMMAND = "bun scripts/contracts.ts update";

if (import.meta.main) {
  process.exit(
    await runContractsCommand(process.argv.slice(2), {
      servicesDir: SERVICES_DIR,
      contractsDir: CONTRACTS_DIR,
      updateCommand: UPDATE_COMMAND,
    }),
  );
}
