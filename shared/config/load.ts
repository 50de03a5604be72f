/**
 * Typed configuration from the environment, web-standard (Bun, Deno and
 * workerd alike). A schema is a zod object whose keys are environment
 * variable names; a bad or missing value stops start-up with one message
 * that lists every bad key and says what to do.
 */
import type { z } from "zod";
import type { Logger } from "../log/logger.ts";

/** One bad key: its name and what is wrong with its value. */
export type ConfigProblem = { key: string; message: string };

/** Thrown by `loadConfig`; `message` lists every bad key, one per line. */
export class ConfigError extends Error {
  /** `subject` names what is being configured in the message ("edge", "runs"). */
  constructor(
    readonly problems: ConfigProblem[],
    readonly subject?: string,
  ) {
    const n = problems.length;
    super(
      `Invalid ${subject ? `${subject} ` : ""}configuration (${n} problem${n === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n") +
        "\nFix these environment variables (README.md, Configuration) and start again.",
    );
    this.name = "ConfigError";
  }
}

// Values worth not printing back: a secret in a log outlives the mistake.
const SECRET = /PASS|TOKEN|SECRET/;

/**
 * Parses `env` with `schema`, or throws one `ConfigError` naming every bad
 * key and the value it had. Empty and blank values count as unset (compose
 * files and shells pass `KEY=`), so defaults apply.
 *
 * @example
 * const cfg = loadConfig(z.object({ PORT: z.coerce.number().int().min(0).default(0) }), process.env);
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, unknown> = globalThis.process?.env ?? {},
  subject?: string,
): z.infer<S> {
  const present: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (typeof value === "string" && value.trim() !== "") present[key] = value;
  }
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.map(String).join(".") || "(environment)";
    const got = present[String(issue.path[0])];
    const shown = got === undefined ? "unset" : SECRET.test(key) ? "set" : JSON.stringify(got);
    return { key, message: `${issue.message} (got ${shown})` };
  });
  throw new ConfigError(problems, subject);
}

export type LoadOrExitOptions = {
  /** What is being configured, named in the message ("edge", "runs"). */
  subject?: string;
  /** Where the message goes (default: the console's stderr). */
  logger?: Pick<Logger, "error">;
  /** Ends the program (default `process.exit`; Deno: `Deno.exit`). */
  exit?: (code: number) => never;
};

/**
 * Logs a `ConfigError`'s one message (every bad key and what to do) and ends
 * the program with status 1. For a program whose configuration is read
 * further down (a service's own settings inside `startService`).
 *
 * @example
 * catch (err) { if (err instanceof ConfigError) exitOnConfigError(err, { subject: "runs" }); throw err; }
 */
export function exitOnConfigError(err: ConfigError, options: LoadOrExitOptions = {}): never {
  const error = options.subject && !err.subject ? new ConfigError(err.problems, options.subject) : err;
  if (options.logger) options.logger.error({ problems: error.problems }, error.message);
  else console.error(error.message);
  const exit = options.exit ?? ((code: number): never => globalThis.process.exit(code));
  return exit(1);
}

/**
 * Parses `env` with `schema`, or logs one message naming every bad key and
 * exits 1: what every program's entry does with its configuration.
 *
 * @example
 * const config = loadOrExit(EdgeConfigSchema, process.env, { subject: "edge", logger: log });
 */
export function loadOrExit<S extends z.ZodType>(
  schema: S,
  env: Record<string, unknown>,
  options: LoadOrExitOptions = {},
): z.infer<S> {
  try {
    return loadConfig(schema, env, options.subject);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return exitOnConfigError(err, options);
  }
}
