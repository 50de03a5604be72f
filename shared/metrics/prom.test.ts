/**
 * The classes shared/metrics/prom.ts loads file by file are the ones
 * prom-client's index exports, and they work together: a counter registered
 * in a registry is rendered by it.
 */
import { describe, expect, test } from "bun:test";
import * as index from "prom-client";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "./prom.ts";

describe("prom-client loaded file by file", () => {
  test("each class is the one the package's index exports", () => {
    expect(Counter).toBe(index.Counter);
    expect(Gauge).toBe(index.Gauge);
    expect(Histogram).toBe(index.Histogram);
    expect(Registry).toBe(index.Registry);
  });

  test("importing them does not load the process metrics' collectors", () => {
    const script = `await import(${JSON.stringify(new URL("./prom.ts", import.meta.url).pathname)});
      console.log(Object.keys(require.cache).filter((f) => f.includes("prom-client/lib/")).join("\\n"));`;
    const out = Bun.spawnSync([process.execPath, "-e", script], { stderr: "inherit" });
    const loaded = out.stdout.toString();
    expect(loaded).toContain("prom-client/lib/counter.js");
    expect(loaded).not.toContain("defaultMetrics");
  });

  test("the process metrics are loaded at the first call and registered where asked", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    // The same collectors as the index's own function registers.
    const reference = new index.Registry();
    index.collectDefaultMetrics({ register: reference, eventLoopMonitoringPrecision: 100 });
    expect(names).toContain("process_cpu_user_seconds_total");
    expect(names).toEqual((await reference.getMetricsAsJSON()).map((m) => m.name));
  });

  test("a counter in a registry of these classes is rendered", async () => {
    const registry = new Registry();
    const c = new Counter({ name: "t_total", help: "t", labelNames: ["k"], registers: [registry] });
    c.inc({ k: "a" }, 2);
    expect(await registry.metrics()).toContain('t_total{k="a"} 2');
  });
});
