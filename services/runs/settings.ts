/**
 * The runs service's own settings, read from the same environment as the
 * kit's (a bad value stops start-up with the kit's one-message ConfigError).
 */
import { availableParallelism } from "node:os";
import { loadConfig } from "@runnerly/kit";
import { z } from "zod";

export const runsSettingsSchema = z.object({
  /** Threads that parse GPX uploads, per instance (default: one fewer than the cores, at least 1). */
  IMPORT_WORKERS: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(Math.max(1, availableParallelism() - 1)),
  /** Uploads that may wait for a thread, per instance; more are answered 503 with Retry-After. */
  IMPORT_QUEUE: z.coerce.number().int().min(0).max(1000).default(4),
  /** Uploads one runner may have in progress at once; more are answered 429 with Retry-After. */
  IMPORT_PER_USER: z.coerce.number().int().min(1).max(100).default(1),
});

export type RunsSettings = { importWorkers: number; importQueue: number; importPerUser: number };

/**
 * Reads the runs settings from `env`.
 *
 * @example
 * const { importWorkers } = loadRunsSettings({ IMPORT_WORKERS: "2" });
 */
export function loadRunsSettings(env: Record<string, string | undefined>): RunsSettings {
  const raw = loadConfig(runsSettingsSchema, env);
  return {
    importWorkers: raw.IMPORT_WORKERS,
    importQueue: raw.IMPORT_QUEUE,
    importPerUser: raw.IMPORT_PER_USER,
  };
}
