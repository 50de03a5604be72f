/**
 * Process entry for a service: start it (with OpenTelemetry tracing when an
 * OTLP endpoint is configured), stop it gracefully on SIGTERM/SIGINT and
 * export the last spans, and turn a configuration error into one readable
 * message and exit code 1.
 */
import { ConfigError, exitOnConfigError } from "../config/index.ts";
import { createLogger } from "../log/index.ts";
import type { RpcMethods } from "../rpc/index.ts";
import { startTracing } from "../trace/index.ts";
import { type ServiceDefinition, startService } from "./index.ts";

const LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);

/**
 * Runs a service until SIGTERM or SIGINT. This is all a service's `main.ts` does.
 *
 * @example
 * import { runService } from "@runnerly/kit";
 * import { service } from "./service.ts";
 * await runService(service);
 */
export async function runService<S extends Record<string, unknown>, M extends RpcMethods>(
  def: ServiceDefinition<S, M>,
): Promise<void> {
  const tracing = startTracing({
    serviceName: def.name,
    version: def.version,
    // A bad LOG_LEVEL is startService's to report, with every other bad key.
    logger: createLogger(def.name, LEVELS.has(process.env.LOG_LEVEL ?? "") ? process.env.LOG_LEVEL : "info"),
  });
  let running: Awaited<ReturnType<typeof startService<S, M>>>;
  try {
    running = await startService(def);
  } catch (err) {
    await tracing.shutdown();
    if (err instanceof ConfigError) exitOnConfigError(err, { subject: def.name });
    console.error(`${def.name}: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : err}`);
    console.error(hint(err));
    process.exit(1);
  }
  let signalled = false;
  const onSignal = async (signal: string) => {
    if (signalled) return;
    signalled = true;
    running.logger.info({ signal }, "shutdown requested");
    await running.stop();
    await tracing.shutdown();
    process.exit(0);
  };
  process.on("SIGTERM", () => void onSignal("SIGTERM"));
  process.on("SIGINT", () => void onSignal("SIGINT"));
}

/** What to do next, judged from what failed. */
function hint(err: unknown): string {
  const text = String(err instanceof Error ? `${err.name} ${err.message}` : err);
  if (/libSQL server|DATABASE_AUTH_TOKEN/i.test(text)) {
    return "Check DATABASE_URL and DATABASE_AUTH_TOKEN: the libSQL server must be running, reachable and accept the token.";
  }
  if (/SQLITE|database|libsql/i.test(text)) {
    return "Check DATABASE_URL / DATA_DIR: the directory must be writable and the file not held by a stuck process.";
  }
  if (/does not exist and this service may not create it/i.test(text)) {
    return "Provision the streams and durables first: npm run dev does it, elsewhere run `runnerly provision` as the provisioner.";
  }
  if (/Authorization Violation|AUTHORIZATION_VIOLATION/i.test(text)) {
    return "NATS refused the credentials: check NATS_USER and NATS_PASS (and NATS_PULL_USER); npm run dev and deploy/nats-auth.ts write them into each service's creds file.";
  }
  if (/ECONNREFUSED|CONNECTION_REFUSED|nats|timeout/i.test(text)) {
    return "Check that nats-server is running and reachable at NATS_URL (npm run dev starts one).";
  }
  return "Check the configuration printed above and the service's logs.";
}
