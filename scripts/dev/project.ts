/**
 * The project a launcher or `runnerly` works on: the folder it is started
 * in, or the nearest folder above it that is a project root — one whose
 * package.json has `workspaces`, or one with a `services/` folder beside its
 * package.json. So `runnerly dev` run from `services/greeter` still runs the
 * whole project, in this repository and in one made by `npm create runnerly`.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/**
 * The project root for `from` (default: the current directory); `from`
 * itself when no folder above it looks like one.
 *
 * @example
 * findProjectRoot("/home/ann/my-mesh/services/greeter"); // → "/home/ann/my-mesh"
 */
export function findProjectRoot(from: string = process.cwd()): string {
  const start = resolve(from);
  for (let dir = start; ; dir = dirname(dir)) {
    if (isProjectRoot(dir)) return dir;
    if (dirname(dir) === dir) return start;
  }
}

function isProjectRoot(dir: string): boolean {
  const manifest = join(dir, "package.json");
  if (!existsSync(manifest)) return false;
  if (isFolder(join(dir, "services"))) return true;
  try {
    return "workspaces" in (JSON.parse(readFileSync(manifest, "utf8")) as object);
  } catch {
    // an unreadable package.json marks no project
    return false;
  }
}

function isFolder(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/**
 * The nearest `node_modules/.bin/<name>` at or above `from`: a program a
 * project installed (drizzle-kit, the edge's `runnerly-edge`), found as npm
 * scripts would find it, never in the package that asks.
 *
 * @example
 * projectBin("drizzle-kit", "/home/ann/my-mesh/services/greeter"); // → "/home/ann/my-mesh/node_modules/.bin/drizzle-kit"
 */
export function projectBin(name: string, from: string): string | null {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const bin = join(dir, "node_modules", ".bin", name);
    if (existsSync(bin)) return bin;
    if (dirname(dir) === dir) return null;
  }
}
