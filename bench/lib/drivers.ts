/**
 * How a scenario's load is made: wrk for HTTP, the NATS load client for raw
 * request-reply. Both run on the load cores and return one run's figures.
 */
import type { MetaMode } from "../ceilings/meta.ts";
import type { NatsLoadResult } from "../ceilings/nats-load.ts";
import type { BenchContext } from "./context.ts";
import type { Scenario } from "./measure.ts";
import { loadPrefix } from "./pin.ts";
import { errorCount, errorDetail, runWrk } from "./wrk.ts";

/** A scenario driven by wrk against `url` (with a Lua script when given). */
export function wrkDriver(ctx: BenchContext, url: string, script?: string): Scenario["drive"] {
  return async function driveWrk(seconds) {
    const r = await runWrk({
      url,
      connections: ctx.options.connections,
      seconds,
      pinPrefix: loadPrefix(ctx.pin),
      ...(script ? { script } : {}),
    });
    return {
      rps: r.requestsPerSec,
      p50: r.latencyMs.p50,
      p99: r.latencyMs.p99,
      requests: r.requests,
      errors: errorCount(r),
      errorDetail: errorDetail(r),
    };
  };
}

/** A scenario driven by the NATS load client (bench/ceilings/nats-load.ts) on the load cores. */
export function natsDriver(ctx: BenchContext, meta: MetaMode): Scenario["drive"] {
  return async function driveNats(seconds) {
    const argv = [
      ...loadPrefix(ctx.pin),
      ctx.bun,
      "bench/ceilings/nats-load.ts",
      "--url",
      ctx.natsUrl,
      "--inflight",
      String(ctx.options.connections),
      // The client is a fresh process each run: let its JIT warm up first.
      "--warmup",
      "1",
      "--seconds",
      String(seconds),
      "--meta",
      meta,
    ];
    const proc = Bun.spawn(argv, { cwd: ctx.root, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) throw new Error(`nats-load exited with ${code}: ${err || out}`);
    const r = JSON.parse(out.trim().split("\n").at(-1)!) as NatsLoadResult;
    return { rps: r.requestsPerSec, p50: r.p50, p99: r.p99, requests: r.requests, errors: r.errors };
  };
}
