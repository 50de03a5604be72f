/**
 * What a launcher of Runnerly processes needs at run time
 * (`@runnerly/kit/runtime`): the allocator's setting for the processes it
 * starts, restart with backoff, a free port, a command run to completion, and
 * where a started module is once bundled (`builtModule`). Bun-only.
 */
export * from "./allocator.ts";
export { builtModule } from "./built-module.ts";
export { type CommandOptions, type CommandResult, runCommand } from "./command.ts";
export { freePort } from "./free-port.ts";
export { type RestartOptions, RestartWithBackoff } from "./restart.ts";
