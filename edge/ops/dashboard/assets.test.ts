import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { buildDashboardAssets, DASHBOARD_ASSETS_MODULE, renderDashboardAssets } from "./build.ts";

test("assets.gen.ts is the build of edge/ops/dashboard/client as it is now", async () => {
  const fresh = renderDashboardAssets(await buildDashboardAssets());
  const committed = readFileSync(DASHBOARD_ASSETS_MODULE, "utf8");
  if (committed !== fresh) {
    throw new Error(
      "edge/ops/dashboard/assets.gen.ts is stale: run bun edge/ops/dashboard/build.ts and commit the result",
    );
  }
  expect(committed).toBe(fresh);
});
