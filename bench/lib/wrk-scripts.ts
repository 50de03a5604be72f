/** wrk Lua scripts the suite needs, written under the bench work dir. */
import { join } from "node:path";
import { rowId, SEED_ROWS } from "../payloads.ts";
import type { BenchContext } from "./context.ts";

/**
 * A script requesting `/api/bench/items/<id>` for a random seeded row each
 * time, so point reads are spread over the table as a real client's are.
 * Writes it once and returns its path.
 *
 * @example
 * wrk -s "$(itemsScript(ctx))" http://127.0.0.1:8787
 */
export async function itemsScript(ctx: BenchContext, rows = SEED_ROWS): Promise<string> {
  const path = join(ctx.workDir, "items.lua");
  // The same id format as rowId() in payloads.ts; checked below so the two cannot drift apart.
  const format = "00000000-0000-4000-8000-%012x";
  if (rowId(255) !== "00000000-0000-4000-8000-0000000000ff")
    throw new Error("rowId() changed: update items.lua");
  const lua = [
    "math.randomseed(42)",
    "request = function()",
    `  local path = string.format("/api/bench/items/${format}", math.random(1, ${rows}))`,
    '  return wrk.format("GET", path)',
    "end",
    "",
  ].join("\n");
  await Bun.write(path, lua);
  return path;
}
