/**
 * `runnerly build`: each service, and the edge, as one bundle with bytecode,
 * for the processes a deployment starts (the Dockerfile runs them). A bundle
 * loads one file of already-compiled code instead of resolving, reading and
 * compiling some 500 modules, which is most of a service's start-up
 * (BENCHMARKS.md, start-up).
 *
 * Layout: `<out>/<name>/main.js` (and its `main.js.jsc` bytecode). What the
 * code finds through `new URL("<relative path>", import.meta.url)` is put at
 * the same relative path from the bundle: data (a service's `./drizzle`
 * migrations, the kit's `../drizzle`) is copied, and a module (a worker's
 * `./gpx-worker.ts`, the edge's worker process) is bundled as `.js` beside
 * it, which the kit's WorkPool and the edge's supervisor start when the
 * `.ts` is not there (`builtModule`, shared/runtime/built-module.ts). So a
 * bundle with bun:sqlite stores runs anywhere it is copied; what CommonJS
 * packages find through their `__dirname` (libSQL's native driver, pino's
 * transports) is still looked up in the node_modules the build saw, which
 * the image keeps.
 */
import { cpSync, existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from "node:path";

export type BuiltService = {
  name: string;
  /** The bundle to run: `bun <main>`. */
  main: string;
  /** Bytes of JavaScript and of bytecode written for the service and its modules. */
  bytes: number;
  /** What `new URL(…, import.meta.url)` names, placed relative to the bundle: `drizzle/`, `../drizzle/`, `gpx-worker.js`. */
  beside: string[];
};

const MODULE_EXTENSIONS = new Set([".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs"]);
// `new URL("./x", import.meta.url)` with a relative literal, the form bundlers recognise.
const URL_REFERENCE = /new URL\(\s*(["'])(\.{1,2}\/[^"'\n]+)\1\s*,\s*import\.meta\.url\s*\)/g;

const BUNDLE_URL = "__runnerly_bundle_url";

/** Thrown for what the user must change; the message says what. */
export class BuildError extends Error {
  override name = "BuildError";
}

/**
 * Bundles the service whose entry is `main` into `<outRoot>/<name>/`, with what
 * its code finds beside itself. `placed` is shared by the services of one
 * build: two that place different files at one path (`<out>/drizzle`) fail
 * instead of overwriting each other.
 *
 * @example
 * await buildService({ name: "runs", main: "services/runs/main.ts" }, "dist");
 */
export async function buildService(
  service: { name: string; main: string },
  outRoot: string,
  placed: Map<string, string> = new Map(),
): Promise<BuiltService> {
  const outDir = resolve(outRoot, service.name);
  rmSync(outDir, { recursive: true, force: true });
  const built: BuiltService = { name: service.name, main: join(outDir, "main.js"), bytes: 0, beside: [] };
  // A queue of modules to bundle: the entry, then any module its code names by URL.
  const queue = [{ entry: resolve(service.main), out: built.main }];
  while (queue.length > 0) {
    const { entry, out } = queue.shift() as { entry: string; out: string };
    const { bytes, inputs } = await bundle(entry, out);
    built.bytes += bytes;
    for (const ref of urlReferences(inputs)) {
      const target = resolve(dirname(out), ref.path);
      const shown = relative(outDir, target);
      if (!isInside(resolve(outRoot), target)) {
        throw new BuildError(
          `${ref.from}: new URL("${ref.path}", import.meta.url) points outside ${outRoot} once bundled; keep what the code reads beside it (at most one folder up)`,
        );
      }
      if (MODULE_EXTENSIONS.has(extname(ref.path))) {
        const js = `${target.slice(0, -extname(target).length)}.js`;
        if (claim(placed, js, ref.source)) queue.push({ entry: ref.source, out: js });
        built.beside.push(relative(outDir, js));
        continue;
      }
      if (!existsSync(ref.source)) {
        throw new BuildError(
          `${ref.from}: new URL("${ref.path}", import.meta.url) names ${ref.source}, which is not there`,
        );
      }
      if (claim(placed, target, ref.source)) cpSync(ref.source, target, { recursive: true });
      built.beside.push(statSync(ref.source).isDirectory() ? `${shown}/` : shown);
    }
  }
  return built;
}

/** Records that `target` holds `source`; false when it already does, throws when it holds another. */
function claim(placed: Map<string, string>, target: string, source: string): boolean {
  const holder = placed.get(target);
  if (holder === source) return false;
  if (holder !== undefined) {
    throw new BuildError(`${target} would hold both ${holder} and ${source}; rename one of them`);
  }
  placed.set(target, source);
  return true;
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

/** One CommonJS bundle with bytecode at `out`; the files it was built from. */
async function bundle(entry: string, out: string): Promise<{ bytes: number; inputs: string[] }> {
  let result: Bun.BuildOutput;
  try {
    result = await Bun.build({
      entrypoints: [entry],
      outdir: dirname(out),
      naming: basename(out),
      target: "bun",
      format: "cjs",
      bytecode: true,
      metafile: true,
      throw: true,
      // Every module's `import.meta.url` is the bundle's own: Bun's CommonJS output would
      // otherwise hold each source file's URL, and the bundle would read its migrations and
      // load its workers from the source tree it was built from.
      define: { "import.meta.url": BUNDLE_URL },
      banner: `var ${BUNDLE_URL} = require("node:url").pathToFileURL(__filename).href;`,
    });
  } catch (err) {
    throw new BuildError(`${entry}: ${buildMessage(err)}`);
  }
  let bytes = 0;
  for (const output of result.outputs) bytes += output.size;
  const meta = result.metafile as { inputs: Record<string, unknown> } | undefined;
  // The metafile names inputs relative to the working directory.
  const inputs = Object.keys(meta?.inputs ?? {}).map((p) => resolve(p));
  return { bytes, inputs };
}

function buildMessage(err: unknown): string {
  const logs = err instanceof AggregateError ? err.errors : [err];
  const text = logs.map((l) => (l instanceof Error ? l.message : String(l))).join("\n");
  if (/top-level await|"await" can only be used/i.test(text)) {
    return `${text}\nA bundle with bytecode is CommonJS, which has no top-level await: start the service with \`void runService(service)\` instead of \`await runService(service)\`.`;
  }
  return text;
}

type UrlReference = { from: string; path: string; source: string };

/** Every `new URL("./…", import.meta.url)` in the bundle's inputs, with the file it names. */
function urlReferences(inputs: string[]): UrlReference[] {
  const refs: UrlReference[] = [];
  for (const from of inputs) {
    if (!existsSync(from) || !MODULE_EXTENSIONS.has(extname(from))) continue;
    const text = readFileSync(from, "utf8");
    for (const match of text.matchAll(URL_REFERENCE)) {
      // Not one in a comment (a doc comment showing the form).
      const line = text.slice(text.lastIndexOf("\n", match.index) + 1, match.index).trimStart();
      if (line.startsWith("*") || line.startsWith("//") || line.startsWith("/*")) continue;
      const path = match[2] as string;
      refs.push({ from, path, source: resolve(dirname(from), path) });
    }
  }
  return refs;
}
