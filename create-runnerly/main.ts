/**
 * `npm create runnerly@latest <folder>` (npm runs `create-runnerly <folder>`):
 * a new Runnerly project in <folder>, then what to run. Runs on Node: no Bun
 * needed until the project is installed.
 */
import { relative } from "node:path";
import { createProject } from "./create.ts";

const USAGE = `Usage: npm create runnerly@latest <folder>     (or: create-runnerly <folder>)

Creates a Runnerly project in <folder>: the greeter service, the edge and the
dev launcher (@runnerly/edge, @runnerly/cli), bun test wired.
Options: --no-git  do not run git init`;

function main(args: string[]): number {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const folders = args.filter((a) => !a.startsWith("-"));
  const unknown = args.filter((a) => a.startsWith("-") && a !== "--no-git");
  if (folders.length !== 1 || unknown.length > 0) {
    console.error(unknown.length > 0 ? `create-runnerly: unknown option ${unknown.join(", ")}\n` : "");
    console.error(USAGE);
    return 2;
  }
  let dir: string;
  try {
    dir = createProject(folders[0]!, { git: !args.includes("--no-git") });
  } catch (err) {
    console.error(`create-runnerly: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const shown = relative(process.cwd(), dir) || ".";
  console.log(`Created ${shown}: the greeter service, the edge and the dev launcher.

Next:
  cd ${shown}
  npm install
  npm run dev     run everything: nats-server, greeter, the edge on http://127.0.0.1:8787
  npm test        run the tests

nats-server must be on PATH (Debian: sudo apt-get install -y nats-server), or NATS_URL set.`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
