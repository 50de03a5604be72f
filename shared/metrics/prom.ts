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
import type * as Prom from "prom-client";

// prom-client is CommonJS; its typings describe only the index, hence the casts.
// Each file is named by a literal so that a bundle (`runnerly build`) carries it.
export const Counter = require("prom-client/lib/counter") as typeof Prom.Counter;
export const Gauge = require("prom-client/lib/gauge") as typeof Prom.Gauge;
export const Histogram = require("prom-client/lib/histogram") as typeof Prom.Histogram;
export const Registry = require("prom-client/lib/registry") as typeof Prom.Registry;
/** prom-client's `collectDefaultMetrics`, its module loaded at the first call. */
export const collectDefaultMetrics = ((config) =>
  (require("prom-client/lib/defaultMetrics") as typeof Prom.collectDefaultMetrics)(
    config,
  )) as typeof Prom.collectDefaultMetrics;

export type Counter<T extends string = string> = Prom.Counter<T>;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export type Histogram<T extends string = string> = Prom.Histogram<T>;
export type Registry = Prom.Registry;
