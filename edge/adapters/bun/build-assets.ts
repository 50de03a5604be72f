/**
 * What the two browser builds share (edge/web/build.ts for the web page,
 * edge/ops/dashboard/build.ts for the dashboard): Bun.build of a client into one
 * minified script and one stylesheet, in memory, and writing the generated
 * `assets.gen.ts` that carries them as string constants (the edge core reads
 * no files at run time). Build time only, and Bun's: it sits with the Bun adapter.
 */
import { writeFileSync } from "node:fs";

/** A built client: its script and its stylesheet. */
export type ClientAssets = { js: string; css: string };

export type ClientBuildOptions = {
  /** The client's entry file (absolute path). */
  entry: string;
  /** `esm` for a module script, `iife` for a classic one. */
  format: "esm" | "iife";
  /** What is being built, for the error: `building the <what> failed`. */
  what: string;
};

/**
 * Bundles a client: one minified script and one stylesheet, in memory; throws
 * with Bun's messages when it does not build, and when it yields anything else.
 *
 * @example
 * const { js, css } = await buildClientAssets({ entry, format: "esm", what: "web page" });
 */
export async function buildClientAssets({ entry, format, what }: ClientBuildOptions): Promise<ClientAssets> {
  const result = await Bun.build({ entrypoints: [entry], target: "browser", format, minify: true });
  if (!result.success) {
    throw new AggregateError(result.logs, `building the ${what} failed:\n${result.logs.join("\n")}`);
  }
  const js = result.outputs.filter((o) => o.kind === "entry-point");
  const css = result.outputs.filter((o) => o.path.endsWith(".css"));
  if (js.length !== 1 || css.length !== 1 || result.outputs.length !== 2) {
    const paths = result.outputs.map((o) => `${o.kind} ${o.path}`).join(", ");
    throw new Error(`expected one script and one stylesheet, got: ${paths}`);
  }
  return { js: await js[0]!.text(), css: await css[0]!.text() };
}

/**
 * One line of a generated module: `export const NAME = "<value as a JSON string>";`.
 *
 * @example
 * assetConstant("APP_CSS", assets.css);
 */
export function assetConstant(name: string, value: string): string {
  return `export const ${name} = ${JSON.stringify(value)};\n`;
}

/**
 * Writes a generated module and says so with the size of each part:
 * `wrote <path>: app.js 12.3 KB, app.css 4.5 KB`.
 *
 * @example
 * writeAssetsModule(ASSETS_MODULE, renderAssetsModule(assets), { "app.js": assets.js, "app.css": assets.css });
 */
export function writeAssetsModule(path: string, text: string, parts: Record<string, string>): void {
  writeFileSync(path, text);
  const kb = (s: string) => `${(new TextEncoder().encode(s).length / 1024).toFixed(1)} KB`;
  const sizes = Object.entries(parts).map(([label, s]) => `${label} ${kb(s)}`);
  console.log(`wrote ${path}: ${sizes.join(", ")}`);
}
