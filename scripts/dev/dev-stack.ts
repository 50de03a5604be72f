/**
 * The dev stack's members as processes (what `npm run dev` and `runnerly
 * dev` run): every `services/<name>/main.ts` as its own Bun process and the
 * edge as one more, each supervised, with the launcher's lifecycle
 * (launcher.ts). Which edge: RUNNERLY_EDGE_MAIN, else the project's installed
 * `runnerly-edge` program (@runnerly/edge), else `edge/main.ts` in the
 * project (this repository).
 */
import { existsSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type Member, runLauncher } from "./launcher.ts";
import { findProjectRoot, projectBin } from "./project.ts";
import { SupervisedProcess } from "./supervisor.ts";

export type DevStackOptions = {
  /** The project (default: findProjectRoot() of the current directory). */
  root?: string;
  /** The edge's entry file (default: edgeProgram(root)). */
  edgeMain?: string;
};

/**
 * Runs the stack of the project until a signal (exit 0) or a failed start (exit 1).
 *
 * @example
 * await runDevStack({ root: "/home/ann/my-mesh" });
 */
export async function runDevStack(options: DevStackOptions = {}): Promise<void> {
  const root = options.root ?? findProjectRoot();
  const edgeMain = options.edgeMain ?? edgeProgram(root);
  await runLauncher({
    root,
    clientName: "runnerly-dev",
    preflight() {
      if (!edgeMain || !existsSync(edgeMain))
        throw new Error(
          `the edge not found: install @runnerly/edge in ${root} (npm install @runnerly/edge) or set RUNNERLY_EDGE_MAIN`,
        );
    },
    service: (service, env, tagWidth, onUrl) =>
      new SupervisedProcess({
        name: service.name,
        cmd: [process.execPath, service.main],
        cwd: service.dir,
        env,
        tagWidth,
        onLine: (line) => {
          const url = serviceUrlIn(line);
          if (url) onUrl(url);
        },
      }),
    edge: (env, tagWidth, onUrl) =>
      new SupervisedProcess({
        name: "edge",
        cmd: [process.execPath, edgeMain!],
        cwd: dirname(edgeMain!),
        env,
        tagWidth,
        onLine: (line) => {
          const url = /edge listening on (https?:\/\/[^\s"]+)/.exec(line)?.[1];
          if (url) onUrl(url);
        },
      }),
    describe: (child: Member) => (child.exits > 0 ? `exited ${child.exits}×, last ${child.lastExit}` : null),
  });
}

/**
 * The edge program the stack starts in `root`: RUNNERLY_EDGE_MAIN, the
 * installed `runnerly-edge` (its real path, so it runs beside its package),
 * or the project's own `edge/main.ts`; null when there is none.
 *
 * @example
 * edgeProgram("/home/ann/my-mesh"); // → ".../node_modules/@runnerly/edge/main.ts"
 */
export function edgeProgram(
  root: string,
  env: Record<string, string | undefined> = process.env,
): string | null {
  if (env.RUNNERLY_EDGE_MAIN) return resolve(env.RUNNERLY_EDGE_MAIN);
  const own = join(root, "edge", "main.ts");
  if (existsSync(own)) return own;
  const installed = projectBin("runnerly-edge", root);
  return installed ? realpathSync(installed) : null;
}

/** The service's HTTP URL from its `"msg":"service ready"` log line, or null. */
function serviceUrlIn(line: string): string | null {
  if (!line.includes("service ready")) return null;
  try {
    const record = JSON.parse(line) as { msg?: unknown; url?: unknown };
    return record.msg === "service ready" && typeof record.url === "string" ? record.url : null;
  } catch {
    // not a JSON log line
    return null;
  }
}
