/**
 * Typed configuration from the environment. A schema is a zod object whose
 * keys are environment variable names; a bad or missing value stops start-up
 * with one message that lists every bad key.
 */
import { existsSync } from "node:fs";
import { z } from "zod";

/** Thrown by `loadConfig`; `message` lists every bad key, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: { key: string; message: string }[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n") +
        "\nSet these environment variables and start again.",
    );
    this.name = "ConfigError";
  }
}

/**
 * Parses `env` with `schema`, or throws one `ConfigError` naming every bad key.
 *
 * @example
 * const cfg = loadConfig(z.object({ PORT: z.coerce.number().int().min(0).default(0) }));
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  // Empty strings mean "unset", as in most shells' `FOO= cmd`.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    key: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
  throw new ConfigError(problems);
}

const port = z.coerce.number().int().min(0).max(65535);
const natsUrl = z
  .string()
  .refine(
    (v) => v.split(",").every((s) => /^(nats|tls|ws|wss):\/\/[^\s]+$/.test(s.trim())),
    "expected one or more comma-separated nats://, tls://, ws:// or wss:// URLs",
  );

const pemFile = z.string().refine(existsSync, "no such file (expected a PEM file)");

/**
 * TLS to NATS: the CA that signed the server's certificate, and a client
 * certificate and key for servers that verify clients. Spread into any config
 * schema that connects to NATS (the edge's too), with `clientCertificatePair`.
 */
export const natsTlsKeys = {
  NATS_TLS_CA: pemFile.optional(),
  NATS_TLS_CERT: pemFile.optional(),
  NATS_TLS_KEY: pemFile.optional(),
};

const serviceKeys = z.object({
  NATS_URL: natsUrl.default("nats://127.0.0.1:4222"),
  NATS_USER: z.string().optional(),
  NATS_PASS: z.string().optional(),
  NATS_TOKEN: z.string().optional(),
  NATS_CREDS: z.string().optional(),
  ...natsTlsKeys,
  HOST: z.string().default("127.0.0.1"),
  PORT: port.default(0),
  DATA_DIR: z.string().default(".data"),
  DATABASE_URL: z
    .string()
    .regex(/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/)/, "expected file:, libsql://, http(s):// or ws(s)://")
    .optional(),
  DATABASE_AUTH_TOKEN: z.string().optional(),
  DATABASE_DRIVER: z.enum(["auto", "bun-sqlite", "libsql"]).default("auto"),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  SERVICE_INSTANCE: z.string().optional(),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** Replicas of the service's event stream: 1 on one server, 3 in a cluster. */
  EVENTS_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** How long a consumer's message may go unacknowledged before JetStream redelivers it. */
  EVENTS_ACK_WAIT_MS: z.coerce.number().int().min(500).max(3_600_000).default(30_000),
});

/** Settings every kit service reads. */
export const serviceConfigSchema = serviceKeys.superRefine(clientCertificatePair);

/**
 * A client certificate is useless without its key and the other way round:
 * names the missing one (use with `.superRefine` beside `natsTlsKeys`).
 *
 * @example
 * const edgeSchema = z.object({ NATS_URL: z.string(), ...natsTlsKeys }).superRefine(clientCertificatePair);
 */
export function clientCertificatePair(
  cfg: { NATS_TLS_CERT?: string | undefined; NATS_TLS_KEY?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (cfg.NATS_TLS_CERT && !cfg.NATS_TLS_KEY)
    ctx.addIssue({ code: "custom", path: ["NATS_TLS_KEY"], message: "required with NATS_TLS_CERT" });
  if (cfg.NATS_TLS_KEY && !cfg.NATS_TLS_CERT)
    ctx.addIssue({ code: "custom", path: ["NATS_TLS_CERT"], message: "required with NATS_TLS_KEY" });
}

export type ServiceConfig = z.infer<typeof serviceConfigSchema>;
