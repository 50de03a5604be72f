import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import type { Registration } from "../../discovery/registration.ts";
import { RouteTable } from "../../discovery/route-table.ts";
import { recordingLogger } from "../../test-utils.ts";
import type { EdgeEnv } from "../request-context/index.ts";
import { resolve, targetOf } from "./index.ts";

const reg = (name: string, prefix: string): Registration => ({
  id: `${name}-1`,
  name,
  version: "1.0.0",
  prefix,
  subject: `svc.${name}.http`,
  publicRoutes: "",
  levels: {},
  major: 1,
  versionSubject: null,
  instanceSubject: null,
});

/** A route table that counts how often a path is matched. */
function countingTable() {
  const table = new RouteTable({ logger: recordingLogger() });
  table.upsert(reg("runs", "/api/runs"));
  let matches = 0;
  const view = {
    match: (path: string) => {
      matches++;
      return table.match(path);
    },
    list: () => table.list(),
  };
  return { view, matches: () => matches };
}

function app(view: ReturnType<typeof countingTable>["view"]) {
  const a = new Hono<EdgeEnv>();
  a.use(resolve(view, null));
  // Two later steps reading what resolve decided, as the rate limiter and the proxy do.
  a.use(async (c, next) => {
    c.get("route");
    await next();
  });
  a.all("*", (c) =>
    c.json({
      service: c.get("route")?.service ?? null,
      path: c.get("path"),
      target: c.get("target"),
      caller: c.get("caller"),
    }),
  );
  return a;
}

describe("resolve", () => {
  test("a request's route is matched once, on the path as received, and kept for later steps", async () => {
    const { view, matches } = countingTable();
    const res = await app(view).request("/api/runs/r%2F1?limit=20&x=%20");
    expect(await res.json()).toEqual({
      service: "runs",
      path: "/api/runs/r%2F1",
      target: "/api/runs/r%2F1?limit=20&x=%20",
      caller: {},
    });
    expect(matches()).toBe(1);
  });

  test("a path no service claims has no route and no caller", async () => {
    const { view } = countingTable();
    const body = await (await app(view).request("/api/running")).json();
    expect(body).toEqual({ service: null, path: "/api/running", target: "/api/running", caller: {} });
  });

  test.each([
    ["http://localhost:8787/api/runs/1?x=2", "/api/runs/1?x=2"],
    ["http://localhost/api/runs#top", "/api/runs"],
    ["http://[::1]:8787/?q=1#f", "/?q=1"],
    ["http://localhost", "/"],
  ])("the target of %s is %s", (url, target) => {
    expect(targetOf(url)).toBe(target);
  });
});
