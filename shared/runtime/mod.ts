/**
 * What a launcher of Runnerly processes needs at run time
 * (`@runnerly/kit/runtime`): the allocator's setting for the processes it
 * starts, restart with backoff, and a free port. Bun-only.
 */
export * from "./allocator.ts";
export { freePort } from "./free-port.ts";
export { type RestartOptions, RestartWithBackoff } from "./restart.ts";
