/**
 * API stability as code: a service's contract (its OpenAPI document, RPC
 * schemas, published events and consumed event versions) is extracted from
 * its definition, snapshotted under `contracts/`, and compared with the
 * snapshot so that a breaking change fails unless the major version went up.
 */
export {
  type CheckReport,
  checkContracts,
  DEFAULT_UPDATE_COMMAND,
  type FormatOptions,
  formatReport,
  type ServiceResult,
  updateContracts,
} from "./check.ts";
export { type ContractsCommandOptions, type ContractsExitCode, runContractsCommand } from "./command.ts";
export { compareContracts, formatChange, judge, major, type Verdict } from "./compare.ts";
export { checkConsumers } from "./consumers.ts";
export {
  type AnyServiceDefinition,
  extractContract,
  type InspectedService,
  inspectService,
  jsonSchema,
} from "./extract.ts";
export { loadServiceDefinitions } from "./load.ts";
export { sampleOf } from "./sample.ts";
export { diffSchema, type Finding, type Mode } from "./schema-diff.ts";
export { readSnapshot, snapshotFile, snapshotText, writeSnapshot } from "./snapshot.ts";
export type { Change, Contract, JsonSchema } from "./types.ts";
