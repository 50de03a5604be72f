/**
 * Runs a launcher of this repository as a child with the terminal's stdio,
 * passing signals on: what `runnerly start --single` does (scripts/single.ts
 * with Bun's header limit raised for the edge it hosts), or scripts/dev.ts.
 */
import { join, resolve } from "node:path";
import { withAllocatorDefaults } from "@runnerly/kit/runtime";
import { bunHeaderRoom } from "./header-room.ts";

const repo = resolve(import.meta.dir, "..", "..");

/**
 * Resolves with the launcher's exit status once it has stopped.
 *
 * @example
 * process.exit(await runLauncher("single"));
 */
export async function runLauncher(kind: "dev" | "single", args: string[] = []): Promise<number> {
  const cmd =
    kind === "single"
      ? [`--max-http-header-size=${bunHeaderRoom(process.env)}`, join(repo, "scripts", "single.ts")]
      : [join(repo, "scripts", "dev.ts")];
  const child = Bun.spawn([process.execPath, ...cmd, ...args], {
    cwd: repo,
    env: withAllocatorDefaults(process.env),
    stdio: ["inherit", "inherit", "inherit"],
  });
  // Ctrl-C reaches both of us from the terminal; the launcher stops once however often it hears it.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const s of signals) process.on(s, forward);
  const code = await child.exited;
  for (const s of signals) process.off(s, forward);
  return code ?? 1;
}
