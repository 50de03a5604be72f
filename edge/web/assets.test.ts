import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { ASSETS_MODULE, buildWebAssets, renderAssetsModule } from "./build.ts";

test("assets.gen.ts is the build of edge/web/client as it is now", async () => {
  const fresh = renderAssetsModule(await buildWebAssets());
  const committed = readFileSync(ASSETS_MODULE, "utf8");
  if (committed !== fresh) {
    throw new Error("edge/web/assets.gen.ts is stale: run npm run build:web and commit the result");
  }
  expect(committed).toBe(fresh);
});
