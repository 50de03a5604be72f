/**
 * Runs a program to completion and collects what it printed: what the
 * packers, the CLI's tests and the test helper `runScript` share.
 */

/** How a command ended and everything it printed. */
export type CommandResult = { code: number; out: string; err: string };

export type CommandOptions = {
  /** Where it runs (default: this process's folder). */
  cwd?: string;
  /** Its whole environment (default: this process's). */
  env?: Record<string, string | undefined>;
};

/**
 * Runs `command` (the program, then its arguments) with no input and waits
 * for it to exit, reading its stdout and stderr as they come so a full pipe
 * never blocks it.
 *
 * @example
 * const { code, out, err } = await runCommand(["npm", "pack", "--json"], { cwd: stage });
 */
export async function runCommand(command: string[], options: CommandOptions = {}): Promise<CommandResult> {
  const proc = Bun.spawn(command, {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: options.env ?? process.env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out, err };
}
