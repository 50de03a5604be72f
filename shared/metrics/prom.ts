/**
 * prom-client's classes, loaded file by file instead of through the package's
 * index: the index also loads its Pushgateway, and with it node:http,
 * node:https and node:zlib, about 20 ms of every process's start-up on this
 * machine for a feature the kit does not use (BENCHMARKS.md, start-up).
 * The process metrics' collectors (another 20–30 ms of modules) are loaded
 * when `collectDefaultMetrics` is first called, which a service does once it
 * is registered. The types are the package's own; shared/metrics/prom.test.ts
 * checks these are the classes the index exports.
 */
import { createRequire } from "node:module";
import type * as Prom from "prom-client";

// prom-client is CommonJS; its typings describe only the index, hence the casts.
const require = createRequire(import.meta.url);
const load = <T>(file: string): T => require(`prom-client/lib/${file}`) as T;

export const Counter = load<typeof Prom.Counter>("counter");
export const Gauge = load<typeof Prom.Gauge>("gauge");
export const Histogram = load<typeof Prom.Histogram>("histogram");
export const Registry = load<typeof Prom.Registry>("registry");
/** prom-client's `collectDefaultMetrics`, its module loaded at the first call. */
export const collectDefaultMetrics = ((config) =>
  load<typeof Prom.collectDefaultMetrics>("defaultMetrics")(config)) as typeof Prom.collectDefaultMetrics;

export type Counter<T extends string = string> = Prom.Counter<T>;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export type Histogram<T extends string = string> = Prom.Histogram<T>;
export type Registry = Prom.Registry;
