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
    expect(collectDefaultMetrics).toBe(index.collectDefaultMetrics);
  });

  test("a counter in a registry of these classes is rendered", async () => {
    const registry = new Registry();
    const c = new Counter({ name: "t_total", help: "t", labelNames: ["k"], registers: [registry] });
    c.inc({ k: "a" }, 2);
    expect(await registry.metrics()).toContain('t_total{k="a"} 2');
  });
});
