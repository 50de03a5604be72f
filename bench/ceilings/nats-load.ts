/**
 * The NATS ceiling's load generator (wrk cannot speak NATS): keeps N requests
 * in flight against the raw responder for a fixed time and prints one JSON
 * line with the rate and latency percentiles it measured itself.
 *
 *   bun bench/ceilings/nats-load.ts --url nats://127.0.0.1:4222 --inflight 50 --warmup 1 --seconds 6 [--meta headers]
 *
 * `--meta headers` sends the metadata the edge adds to an HTTP request as NATS
 * headers, `--meta json` as a JSON envelope (see meta.ts): the price of the
 * wire protocol's metadata, next to the bare ceiling.
 */
import { parseArgs } from "node:util";
import { connect } from "@nats-io/transport-node";
import { percentile } from "../lib/stats.ts";
import { META_MODES, type MetaMode, replyOk, requestFor } from "./meta.ts";
import { CEILING_SUBJECT } from "./nats-responder.ts";

/** What one run printed (latencies in ms). */
export type NatsLoadResult = {
  requestsPerSec: number;
  requests: number;
  seconds: number;
  p50: number;
  p99: number;
  errors: number;
};

const { values } = parseArgs({
  options: {
    url: { type: "string", default: "nats://127.0.0.1:4222" },
    inflight: { type: "string", default: "50" },
    warmup: { type: "string", default: "1" },
    seconds: { type: "string", default: "6" },
    meta: { type: "string", default: "none" },
  },
});

const nc = await connect({ servers: values.url, name: "bench-nats-load" });
const inflight = Number(values.inflight);
const warmupMs = Number(values.warmup) * 1000;
const runMs = Number(values.seconds) * 1000;

const mode = values.meta as MetaMode;
if (!META_MODES.includes(mode)) throw new Error(`--meta must be one of ${META_MODES.join(", ")}`);

let latencies: Float64Array = new Float64Array(1 << 20);
let count = 0;
let errors = 0;
const start = performance.now();
const measureFrom = start + warmupMs;
const end = measureFrom + runMs;

/** One of the N request loops: sends the next request as soon as the last one is answered. */
async function requestLoop(): Promise<void> {
  while (true) {
    const t0 = performance.now();
    if (t0 >= end) return;
    try {
      const { data, headers } = requestFor(mode);
      const reply = await nc.request(
        CEILING_SUBJECT,
        data,
        headers ? { timeout: 5000, headers } : { timeout: 5000 },
      );
      if (!replyOk(mode, reply)) throw new Error("bad reply");
    } catch {
      errors++;
      continue;
    }
    const t1 = performance.now();
    if (t0 < measureFrom || t1 > end) continue;
    if (count === latencies.length) latencies = growTo(latencies, count * 2);
    latencies[count++] = t1 - t0;
  }
}

function growTo(a: Float64Array, size: number): Float64Array {
  const b = new Float64Array(size);
  b.set(a);
  return b;
}

await Promise.all(Array.from({ length: inflight }, requestLoop));
const sorted = latencies.subarray(0, count).sort();
const result: NatsLoadResult = {
  requestsPerSec: count / (runMs / 1000),
  requests: count,
  seconds: runMs / 1000,
  p50: percentile(sorted, 50),
  p99: percentile(sorted, 99),
  errors,
};
console.log(JSON.stringify(result));
await nc.close();
