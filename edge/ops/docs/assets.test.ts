import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { DOCS_ASSETS, SWAGGER_UI_VERSION } from "./assets.gen.ts";
import { DOCS_ASSETS_MODULE, readDocsSources, shortHash } from "./build.ts";

const stale = "edge/ops/docs/assets.gen.ts is stale: run bun edge/ops/docs/build.ts and commit the result";

test("assets.gen.ts holds exactly the installed swagger-ui-dist and client/init.js", () => {
  const { version, files } = readDocsSources();
  if (version !== SWAGGER_UI_VERSION)
    throw new Error(`${stale} (embedded ${SWAGGER_UI_VERSION}, installed ${version})`);
  expect(Object.keys(DOCS_ASSETS).sort()).toEqual(files.map((f) => f.name).sort());
  for (const file of files) {
    const embedded: { type: string; hash: string; gzip: string } =
      DOCS_ASSETS[file.name as keyof typeof DOCS_ASSETS];
    const bytes = Bun.gunzipSync(Buffer.from(embedded.gzip, "base64"));
    if (Buffer.compare(Buffer.from(bytes), Buffer.from(file.bytes)) !== 0)
      throw new Error(`${stale} (${file.name})`);
    expect(embedded.hash).toBe(shortHash(file.bytes));
    expect(embedded.type).toBe(file.type);
  }
});

test("swagger-ui-dist is pinned to the embedded version in package.json (a build-time dependency)", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
    devDependencies: Record<string, string>;
  };
  expect(pkg.devDependencies["swagger-ui-dist"]).toBe(SWAGGER_UI_VERSION);
});

test("the embedded docs stay small: under 1 MB of module text", () => {
  expect(readFileSync(DOCS_ASSETS_MODULE).length).toBeLessThan(1024 * 1024);
});
