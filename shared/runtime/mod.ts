/**
 * What a launcher of Runnerly processes needs at run time
 * (`@runnerly/kit/runtime`): the allocator's setting for the processes it
 * starts, restart with backoff, a free port, and a command run to completion. Bun-only.
 */
export * from "./allocator.ts";
export { type CommandOptions, type CommandResult, runCommand } from "./command.ts";
export { freePort } from "./free-port.ts";
export { type RestartOptions, RestartWithBackoff } from "./restart.ts";
