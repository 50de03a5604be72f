import type { Subprocess } from "bun";
import { type CommandResult, runCommand } from "../runtime/command.ts";

/**
 * Runs a TypeScript entry (a command such as `cli/main.ts`) as its own Bun
 * process and collects what it printed and how it exited.
 *
 * @example
 * const { code, out } = await runScript("cli/main.ts", ["ls"], { ...process.env, NATS_URL: nats.url });
 */
export async function runScript(
  entry: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<CommandResult> {
  return runCommand([process.execPath, entry, ...args], { env });
}

/** A started Bun process and everything it has printed so far (stdout and stderr, as they arrive). */
export type StartedScript = { proc: Subprocess<"ignore", "pipe", "pipe">; output: () => string };

/**
 * Starts `bun <args…>` (Bun flags, then the entry and its arguments) as its
 * own process and keeps reading its output, so a full pipe never blocks it;
 * the caller stops it.
 *
 * @example
 * const edge = startScript(["edge/main.ts"], { PATH: process.env.PATH ?? "", NATS_URL: nats.url });
 * await waitFor(() => edge.output().includes("edge listening on"), { what: "the edge" });
 */
export function startScript(args: string[], env: Record<string, string>): StartedScript {
  const proc = Bun.spawn([process.execPath, ...args], {
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async function collect() {
      const decoder = new TextDecoder();
      const reader = stream.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        text += decoder.decode(r.value, { stream: true });
      }
    })();
  }
  return { proc, output: () => text };
}
