import { describe, expect, test } from "bun:test";
import { recordingLogger } from "../test-utils.ts";
import type { Registration } from "./registration.ts";
import { RouteTable } from "./route-table.ts";

const reg = (id: string, name: string, prefix: string, version = "1.0.0"): Registration => ({
  id,
  name,
  version,
  prefix,
  subject: `svc.${name}.http`,
  publicRoutes: "",
  levels: {},
  major: Number(version.split(".")[0]),
  versionSubject: null,
  instanceSubject: null,
});

function table(options: { now?: () => number; emptyRouteTtlMs?: number } = {}) {
  return new RouteTable({ logger: recordingLogger(), ...options });
}

describe("RouteTable.match", () => {
  const t = table();
  t.upsert(reg("A1", "alpha", "/api/a"));
  t.upsert(reg("B1", "beta", "/api/a/b"));
  t.upsert(reg("C1", "gamma", "/api/c"));

  test.each([
    ["/api/a", "alpha"],
    ["/api/a/", "alpha"],
    ["/api/a/x/y", "alpha"],
    ["/api/a/bx", "alpha"],
    ["/api/a/b", "beta"],
    ["/api/a/b/", "beta"],
    ["/api/a/b/c", "beta"],
    ["/api/c", "gamma"],
    ["/api/ab", null],
    ["/api", null],
    ["/", null],
    ["/API/a", null],
  ])("%s → %p", (path, service) => {
    expect(t.match(path)?.service ?? null).toBe(service);
  });

  test("lists routes longest prefix first", () => {
    expect(t.list().map((r) => r.prefix)).toEqual(["/api/a/b", "/api/a", "/api/c"]);
  });

  test("a service mounted at / catches what nothing longer claims", () => {
    const root = table();
    root.upsert(reg("W1", "web", "/"));
    root.upsert(reg("A1", "alpha", "/api/a"));
    expect(root.match("/api/a/1")?.service).toBe("alpha");
    expect(root.match("/about")?.service).toBe("web");
    expect(root.match("/")?.service).toBe("web");
  });
});

describe("RouteTable instances", () => {
  test("groups instances of a service under its prefix, with their versions", () => {
    const t = table();
    t.upsert(reg("R2", "runs", "/api/runs", "1.1.0"));
    t.upsert(reg("R1", "runs", "/api/runs", "1.0.0"));
    expect(t.list()).toEqual([
      {
        prefix: "/api/runs",
        service: "runs",
        subject: "svc.runs.http",
        instances: [
          { id: "R1", version: "1.0.0", subject: null },
          { id: "R2", version: "1.1.0", subject: null },
        ],
        publicRoutes: [],
        levels: {},
        versions: [
          {
            major: 1,
            subject: null,
            instances: [
              { id: "R1", version: "1.0.0", subject: null },
              { id: "R2", version: "1.1.0", subject: null },
            ],
          },
        ],
      },
    ]);
  });

  test("a stopped instance cannot be revived by a late INFO reply", () => {
    const t = table();
    t.upsert(reg("R1", "runs", "/api/runs"));
    t.remove("runs", "R1");
    t.upsert(reg("R1", "runs", "/api/runs"));
    expect(t.match("/api/runs")?.instances).toEqual([]);
  });

  test("a stop is believed for a while only: an instance still answering after it is routed again", () => {
    let now = 1000;
    const logger = recordingLogger();
    const t = new RouteTable({ logger, now: () => now, tombstoneTtlMs: 3000 });
    t.upsert(reg("R1", "runs", "/api/runs"));
    t.remove("runs", "R1");
    now += 2999;
    t.upsert(reg("R1", "runs", "/api/runs"));
    expect(t.match("/api/runs")?.instances).toEqual([]);
    now += 1;
    t.upsert(reg("R1", "runs", "/api/runs"));
    expect(t.match("/api/runs")?.instances.map((i) => i.id)).toEqual(["R1"]);
    expect(logger.entries.map((e) => e.msg)).toContain("instance answers after it announced it stopped");
  });

  test("a stop said under another service's name leaves the instance alone", () => {
    const t = table();
    t.upsert(reg("R1", "runs", "/api/runs"));
    t.remove("stats", "R1");
    for (const _ of [1, 2]) {
      const sweep = t.beginSweep();
      t.upsert(reg("R1", "runs", "/api/runs"));
      t.endSweep(sweep, "answered");
    }
    expect(t.match("/api/runs")?.instances.map((i) => i.id)).toEqual(["R1"]);
  });

  test("an instance dropped because nobody listened comes back when it answers again (a reconnect)", () => {
    const t = table();
    t.upsert(reg("R1", "runs", "/api/runs"));
    t.drop("runs", "R1");
    expect(t.match("/api/runs")?.instances).toEqual([]);
    t.upsert(reg("R1", "runs", "/api/runs"));
    expect(t.match("/api/runs")?.instances.map((i) => i.id)).toEqual(["R1"]);
  });

  test("a route whose instances are gone stays (503, not 404) until its TTL", () => {
    let now = 1000;
    const t = table({ now: () => now, emptyRouteTtlMs: 60_000 });
    t.upsert(reg("R1", "runs", "/api/runs"));
    t.removeService("runs");
    expect(t.match("/api/runs")).toMatchObject({ service: "runs", instances: [] });
    now += 60_000;
    t.endSweep(t.beginSweep(), "none");
    expect(t.match("/api/runs")).toBeNull();
  });

  test("an instance missing from one sweep stays; missing from two it goes", () => {
    const t = table();
    t.upsert(reg("R1", "runs", "/api/runs"));
    t.upsert(reg("S1", "stats", "/api/stats"));
    for (const _ of [1, 2]) {
      const sweep = t.beginSweep();
      t.upsert(reg("S1", "stats", "/api/stats"));
      t.endSweep(sweep, "answered");
      expect(t.match("/api/stats")?.instances).toHaveLength(1);
    }
    expect(t.match("/api/runs")?.instances).toEqual([]);
  });

  test("an instance seen again after a miss starts counting from zero", () => {
    const t = table();
    t.upsert(reg("R1", "runs", "/api/runs"));
    t.endSweep(t.beginSweep(), "answered");
    const sweep = t.beginSweep();
    t.upsert(reg("R1", "runs", "/api/runs"));
    t.endSweep(sweep, "answered");
    t.endSweep(t.beginSweep(), "answered");
    expect(t.match("/api/runs")?.instances).toHaveLength(1);
  });

  test("a sweep told that nobody listens drops every instance at once", () => {
    const t = table();
    t.upsert(reg("R1", "runs", "/api/runs"));
    t.endSweep(t.beginSweep(), "none");
    expect(t.match("/api/runs")?.instances).toEqual([]);
  });

  test("when two services claim one prefix, the one with more instances wins, with a warning", () => {
    const logger = recordingLogger();
    const t = new RouteTable({ logger });
    t.upsert(reg("X1", "impostor", "/api/runs"));
    t.upsert(reg("R1", "runs", "/api/runs"));
    t.upsert(reg("R2", "runs", "/api/runs"));
    expect(t.match("/api/runs")?.service).toBe("runs");
    expect(logger.entries.some((e) => e.level === "warn" && e.msg?.includes("claim one prefix"))).toBe(true);
  });
});
