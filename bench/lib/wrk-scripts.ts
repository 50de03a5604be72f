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

/** What one request of a row is: method, path (or one of `paths` at random), bearer token, JSON body. */
export type ScriptedRequest = {
  method: "GET" | "POST";
  path: string;
  /** When given, each request takes one of these paths at random instead of `path`. */
  paths?: string[];
  token?: string;
  body?: string;
};

/** The line the status counter prints; parseWrk reads it (see NOT_2XX_LINE in wrk.ts). */
const COUNT_NOT_2XX = [
  '-- wrk\'s own count ("Non-2xx or 3xx responses") takes only statuses >= 400: count every status outside 2xx.',
  "local threads = {}",
  "function setup(thread) table.insert(threads, thread) end",
  "not2xx = 0",
  "statuses = {}",
  "function response(status)",
  "  if status < 200 or status > 299 then",
  "    not2xx = not2xx + 1",
  "    statuses[status] = (statuses[status] or 0) + 1",
  "  end",
  "end",
  "function done()",
  "  local n, by, parts = 0, {}, {}",
  "  for _, t in ipairs(threads) do",
  '    n = n + t:get("not2xx")',
  '    for s, c in pairs(t:get("statuses")) do by[s] = (by[s] or 0) + c end',
  "  end",
  '  for s, c in pairs(by) do table.insert(parts, s .. ": " .. c) end',
  '  io.write(string.format("Responses not 2xx: %d (%s)\\n", n, table.concat(parts, ", ")))',
  "end",
];

/** A Lua string literal (the values here are ASCII: tokens, UUIDs, JSON). */
function lua(text: string): string {
  if (!/^[\x20-\x7e]*$/.test(text))
    throw new Error(`not printable ASCII, not written into a wrk script: ${text}`);
  return JSON.stringify(text);
}

/**
 * A script making `request` on every call, which counts any answer outside
 * 2xx as an error; written to `<workDir>/<name>.lua`, returns its path.
 *
 * @example
 * const script = await requestScript(ctx, "stack-run", { method: "GET", path: "", paths, token });
 */
export async function requestScript(
  ctx: BenchContext,
  name: string,
  request: ScriptedRequest,
): Promise<string> {
  const path = join(ctx.workDir, `${name}.lua`);
  const lines = [`wrk.method = ${lua(request.method)}`, `wrk.path = ${lua(request.path)}`];
  if (request.token) lines.push(`wrk.headers["Authorization"] = ${lua(`Bearer ${request.token}`)}`);
  if (request.body !== undefined) {
    lines.push(`wrk.headers["Content-Type"] = "application/json"`, `wrk.body = ${lua(request.body)}`);
  }
  if (request.paths) {
    lines.push(
      "math.randomseed(42)",
      `local paths = { ${request.paths.map(lua).join(", ")} }`,
      "request = function() return wrk.format(nil, paths[math.random(#paths)]) end",
    );
  }
  await Bun.write(path, [...lines, ...COUNT_NOT_2XX, ""].join("\n"));
  return path;
}
