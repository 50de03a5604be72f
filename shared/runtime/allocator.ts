/**
 * How Bun's native allocator (mimalloc) is set for a Runnerly process.
 *
 * By default mimalloc gives memory it freed back to the system 10 ms later
 * (`madvise`), so a process under load gives back and faults in the same pages
 * many times a second: measured on the shipped stack, a sixth of the edge
 * worker's and a quarter of a service's CPU per proxied request went to those
 * system calls and page faults (BENCHMARKS.md, "The allocator, and where the shipped stack stands"). With
 * `MIMALLOC_PURGE_DELAY=-1` freed memory stays with the process for reuse: the
 * same requests cost about a fifth less CPU, and a process keeps the high-water
 * mark of its heap instead of shrinking after it (a few MB more at idle; an
 * edge worker held 256 MB instead of 158 MB after the benchmark's load rows,
 * 500 KB bodies among them).
 *
 * mimalloc reads its options once, when the process starts, so the setting is
 * given in the environment of the processes a launcher starts (the dev and
 * one-process launchers, the edge's workers; compose.yml and the Dockerfile
 * set it too). A value already in the environment wins: set
 * `MIMALLOC_PURGE_DELAY=10` (mimalloc's default, in ms) to give memory back
 * promptly instead.
 */

/** The allocator settings a Runnerly process starts with unless its environment sets them. */
export const ALLOCATOR_ENV: Readonly<Record<string, string>> = { MIMALLOC_PURGE_DELAY: "-1" };

/**
 * `env` with the allocator settings added where it does not set them.
 *
 * @example
 * Bun.spawn(["bun", "services/runs/main.ts"], { env: withAllocatorDefaults(process.env) });
 */
export function withAllocatorDefaults<T extends Record<string, string | undefined>>(
  env: T,
): T & Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const [key, value] of Object.entries(ALLOCATOR_ENV)) if (out[key] === undefined) out[key] = value;
  return out as T & Record<string, string | undefined>;
}
