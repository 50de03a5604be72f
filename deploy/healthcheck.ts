#!/usr/bin/env bun
/**
 * Health probe for containers and units: the image has no curl or wget.
 *
 *   bun deploy/healthcheck.ts                 this container's process, from SERVICE:
 *                                             the edge's /readyz on EDGE_PORT, or a
 *                                             service's /api/<name>/healthz on PORT
 *   bun deploy/healthcheck.ts URL…            each URL must answer 2xx
 *   bun deploy/healthcheck.ts --wait 60000 URL…   retry until they all do, for at most that long
 *
 * Exits 0 when healthy, 1 with one line saying which URL failed and how.
 */
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { wait: { type: "string" } },
});
const env = process.env;
const urls = positionals.length > 0 ? positionals : [ownUrl()];
const waitMs = values.wait === undefined ? 0 : Number(values.wait);
if (!Number.isFinite(waitMs) || waitMs < 0) fail(`--wait: expected milliseconds, got "${values.wait}"`);

const deadline = Date.now() + waitMs;
let problem = await firstProblem(urls);
while (problem && Date.now() < deadline) {
  await Bun.sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
  problem = await firstProblem(urls);
}
if (problem) fail(waitMs > 0 ? `${problem} (waited ${waitMs} ms)` : problem);

/** The probe URL of the process this container runs (SERVICE=edge or a service name). */
function ownUrl(): string {
  const service = env.SERVICE;
  if (!service) fail("set SERVICE (edge or a service name) or pass the URL to probe");
  if (service === "edge") return `http://127.0.0.1:${env.EDGE_PORT || "8787"}/readyz`;
  return `http://127.0.0.1:${env.PORT || "8080"}/api/${service}/healthz`;
}

/** Null when every URL answers 2xx within 3 s, else what the first one that doesn't did. */
async function firstProblem(list: string[]): Promise<string | null> {
  for (const url of list) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      await res.arrayBuffer();
      if (!res.ok) return `${url}: HTTP ${res.status}`;
    } catch (err) {
      return `${url}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  return null;
}

function fail(message: string): never {
  console.error(`unhealthy: ${message}`);
  process.exit(1);
}
