/**
 * The kit's configuration: `loadConfig`/`loadOrExit` and the keys every
 * program on the mesh shares (web-standard, ./load.ts and ./nats.ts, also in
 * `@runnerly/kit/web` for the edge), and the keys every service reads.
 */
import { existsSync } from "node:fs";
import { z } from "zod";
import { alongsideBadKeys, meshConfigKeys, natsCredentialRules } from "./nats.ts";

export * from "./load.ts";
export * from "./nats.ts";

const port = z.coerce.number().int().min(0).max(65535);

/** Every key a kit service reads, before the rules across keys (`serviceConfigSchema`). */
export const serviceConfigKeys = meshConfigKeys.extend({
  HOST: z.string().default("127.0.0.1"),
  PORT: port.default(0),
  DATA_DIR: z.string().default(".data"),
  DATABASE_URL: z
    .string()
    .regex(/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/)/, "expected file:, libsql://, http(s):// or ws(s)://")
    .optional(),
  DATABASE_AUTH_TOKEN: z.string().optional(),
  DATABASE_DRIVER: z.enum(["auto", "bun-sqlite", "libsql"]).default("auto"),
  SERVICE_INSTANCE: z.string().optional(),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** Replicas of the service's event stream: 1 on one server, 3 in a cluster. */
  EVENTS_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** How long a consumer's message may go unacknowledged before JetStream redelivers it. */
  EVENTS_ACK_WAIT_MS: z.coerce.number().int().min(500).max(3_600_000).default(30_000),
  /** How long a task (or a task's result) may go unacknowledged before JetStream hands it to another instance. */
  TASKS_ACK_WAIT_MS: z.coerce.number().int().min(500).max(3_600_000).default(30_000),
  /** Requests one instance handles at once (load shedding, ../service/shedding.ts); `0` turns shedding off. */
  SERVICE_MAX_CONCURRENCY: z.coerce.number().int().min(0).max(1_000_000).default(64),
  /** Longest a streamed reply (server-sent events through the edge) stays open; its Mesh-Deadline may end it sooner. */
  SERVICE_STREAM_MAX_MS: z.coerce.number().int().min(1000).max(86_400_000).default(300_000),
  /**
   * The NATS user (with NATS_PASS) the service pulls its JetStream messages
   * with, on a connection of their own; the generated creds files set it
   * (`<name>.pull`). Unset: everything goes through one connection.
   */
  NATS_PULL_USER: z.string().min(1).optional(),
});

/** Settings every kit service reads. */
export const serviceConfigSchema = serviceConfigKeys
  .superRefine(natsCredentialRules, alongsideBadKeys)
  .superRefine(natsFilesExist, alongsideBadKeys);

export type ServiceConfig = z.infer<typeof serviceConfigSchema>;

/**
 * The credential and TLS files a Bun process reads when it connects must
 * exist: a typo is named at start-up, not as a failed connection.
 *
 * @example
 * meshConfigKeys.extend({ … }).superRefine(natsFilesExist, alongsideBadKeys);
 */
export function natsFilesExist(
  cfg: Partial<Record<"NATS_CREDS" | "NATS_TLS_CA" | "NATS_TLS_CERT" | "NATS_TLS_KEY", string>>,
  ctx: z.RefinementCtx,
): void {
  for (const key of ["NATS_CREDS", "NATS_TLS_CA", "NATS_TLS_CERT", "NATS_TLS_KEY"] as const) {
    const file = cfg[key];
    if (file && !existsSync(file)) {
      const kind = key === "NATS_CREDS" ? "a .creds file" : "a PEM file";
      ctx.addIssue({ code: "custom", path: [key], message: `no such file (expected ${kind})` });
    }
  }
}
