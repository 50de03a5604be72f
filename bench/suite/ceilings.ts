/** The ceilings: Bun + Hono over HTTP, and raw nats.js request-reply (bare, with metadata as headers or JSON). */
import type { BenchContext } from "../lib/context.ts";
import { natsDriver, wrkDriver } from "../lib/drivers.ts";
import { measure } from "../lib/measure.ts";
import { stopServers } from "../lib/procs.ts";
import { startHttpCeiling, startResponder } from "../lib/stacks.ts";
import { record, type SuiteResults } from "./results.ts";

/** The NATS rows: the ceiling itself, then the same with the edge's metadata as headers or as JSON. */
const NATS_ROWS = [
  { id: "nats-ceiling", label: "NATS ceiling: raw request-reply", mode: "none", setup: "" },
  {
    id: "nats-headers",
    label: "raw NATS + metadata as headers",
    mode: "headers",
    setup: ", 5 headers out, 2 back",
  },
  {
    id: "nats-json",
    label: "raw NATS + metadata as JSON body",
    mode: "json",
    setup: ", same fields in a JSON envelope",
  },
] as const;

/** Starts both ceiling servers, measures the three rows, stops them. */
export async function runCeilings(ctx: BenchContext, out: SuiteResults): Promise<void> {
  ctx.progress.step("ceilings: starting the Bun + Hono server and the raw NATS responder");
  const http = await startHttpCeiling(ctx);
  const responder = await startResponder(ctx);
  try {
    record(
      out,
      await measure(ctx, {
        id: "http-ceiling",
        label: "HTTP ceiling: Bun + Hono direct",
        setup: "1 process",
        cpuGroups: () => ({ http: [http.child.pid] }),
        drive: wrkDriver(ctx, http.url),
      }),
    );
    for (const meta of NATS_ROWS) {
      record(
        out,
        await measure(ctx, {
          id: meta.id,
          label: meta.label,
          setup: `${ctx.options.connections} in flight${meta.setup}`,
          cpuGroups: () => ({ nats: [ctx.natsPid], responder: [responder.pid] }),
          drive: natsDriver(ctx, meta.mode),
        }),
      );
    }
  } finally {
    await stopServers([http.child, responder]);
  }
}
