/**
 * The edge's configuration, read from the environment and validated with zod.
 * A bad environment stops start-up with one message naming every bad key.
 * (Moves to the kit's config module once it exists.)
 */
import { z } from "zod";

const optionalString = z.string().min(1).optional();
const millis = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

/** The environment the edge reads; every key is documented in the README of `edge/`. */
export const EdgeConfigSchema = z
  .object({
    NATS_URL: z
      .string()
      .default("nats://127.0.0.1:4222")
      .refine(isServerList, "must be a comma-separated list of nats:// or tls:// URLs (or host:port)"),
    NATS_USER: optionalString,
    NATS_PASS: optionalString,
    NATS_TOKEN: optionalString,
    /** Path to a `.creds` file (JWT + nkey seed). */
    NATS_CREDS: optionalString,
    EDGE_HOST: z.string().min(1).default("127.0.0.1"),
    EDGE_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
    EDGE_TIMEOUT_MS: millis(10_000, 300_000),
    EDGE_SWEEP_INTERVAL_MS: millis(1000, 60_000),
  })
  .superRefine(function credentialsComeInPairs(c, ctx) {
    if (c.NATS_PASS && !c.NATS_USER)
      ctx.addIssue({ code: "custom", path: ["NATS_USER"], message: "is required with NATS_PASS" });
    if (c.NATS_USER && !c.NATS_PASS)
      ctx.addIssue({ code: "custom", path: ["NATS_PASS"], message: "is required with NATS_USER" });
  });

export type EdgeConfig = z.infer<typeof EdgeConfigSchema>;

/** Thrown by `loadConfig`; `problems` has one entry per bad key. */
export class ConfigError extends Error {
  constructor(readonly problems: { key: string; message: string }[]) {
    super(`Invalid edge configuration: ${problems.map((p) => `${p.key} ${p.message}`).join("; ")}`);
    this.name = "ConfigError";
  }
}

/**
 * Reads the edge's configuration from an environment record. Empty values
 * count as unset (compose files often pass `KEY=`), so defaults apply.
 *
 * @example
 * const config = loadConfig(process.env); // throws ConfigError listing every bad key
 */
export function loadConfig(env: Record<string, string | undefined>): EdgeConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ""),
  );
  const result = EdgeConfigSchema.safeParse(present);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      key: issue.path.map(String).join(".") || "(environment)",
      message: `${issue.message} (got ${JSON.stringify(present[String(issue.path[0])] ?? null)})`,
    })),
  );
}

function isServerList(value: string): boolean {
  return value.split(",").every((part) => {
    const s = part.trim();
    if (/^[A-Za-z0-9.-]+:\d{1,5}$/.test(s)) return true;
    try {
      const url = new URL(s);
      return (url.protocol === "nats:" || url.protocol === "tls:") && url.hostname !== "";
    } catch {
      return false;
    }
  });
}
