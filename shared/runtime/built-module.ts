/**
 * Where a module that a process starts (a worker thread's, a worker process's
 * entry) is: as given, or, when a `.ts` file is not there and the `.js` of the
 * same name is, that one. `runnerly build` bundles a module that code names
 * through `new URL("./worker.ts", import.meta.url)` beside its bundle as
 * `worker.js`; the kit's WorkPool and the edge's supervisor start what this
 * returns, so the same code runs from the sources and from a bundle.
 *
 * @example
 * builtModule(new URL("./gpx-worker.ts", import.meta.url)); // the URL, or ".../gpx-worker.js" in a bundle
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function builtModule<M extends string | URL>(module: M): M | string {
  const path =
    typeof module === "string" ? module : module.protocol === "file:" ? fileURLToPath(module) : null;
  if (path === null || !path.endsWith(".ts") || existsSync(path)) return module;
  const built = `${path.slice(0, -3)}.js`;
  return existsSync(built) ? built : module;
}
