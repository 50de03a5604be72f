/**
 * Runs a runtime's server as a child process for the start scripts (Bun
 * tooling): output goes straight to the terminal, SIGTERM/SIGINT are passed
 * on to the child by its PID (so it can drain NATS), and this process exits
 * with the child's status.
 */
import { loadOrExit } from "@runnerly/kit/web";
import { type WsEdgeConfig, WsEdgeConfigSchema } from "../../config.ts";

/**
 * Reads the WebSocket edge's configuration from `process.env`, or prints every
 * bad key and exits 1, so a bad environment stops start-up before any build.
 *
 * @example
 * const config = wsConfigOrExit();
 */
export function wsConfigOrExit(): WsEdgeConfig {
  return loadOrExit(WsEdgeConfigSchema, process.env, { subject: "edge" });
}

/**
 * Spawns `command` and never returns: the process ends when the child does.
 *
 * @example
 * await runForwardingSignals(denoServeCommand({ host, port }), process.env);
 */
export async function runForwardingSignals(
  command: string[],
  env: Record<string, string | undefined>,
): Promise<never> {
  const child = Bun.spawn(command, { env, stdin: "inherit", stdout: "inherit", stderr: "inherit" });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => child.kill(signal));
  }
  const code = await child.exited;
  process.exit(child.signalCode ? 1 : code);
}
