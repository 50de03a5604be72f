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
): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn([process.execPath, entry, ...args], { env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out, err };
}
