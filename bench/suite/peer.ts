/** The Moleculer peer: moleculer-web gateway → NATS → a service with hello and a libsql point read. */

import { ALLOCATOR_ENV } from "@runnerly/kit/runtime";
import type { BenchContext } from "../lib/context.ts";
import { wrkDriver } from "../lib/drivers.ts";
import { measure } from "../lib/measure.ts";
import { stopServers } from "../lib/procs.ts";
import { envText, startPeer } from "../lib/stacks.ts";
import { itemsScript } from "../lib/wrk-scripts.ts";
import { record, type SuiteResults } from "./results.ts";

/** Starts the two Moleculer brokers, measures both routes, stops them; then hello once more with the kit's allocator setting. */
export async function runPeer(ctx: BenchContext, out: SuiteResults): Promise<void> {
  ctx.progress.step("peer: starting the Moleculer service broker and the moleculer-web gateway");
  const peer = await startPeer(ctx);
  try {
    const cpuGroups = () => ({
      gateway: [peer.gateway.pid],
      nats: [ctx.natsPid],
      service: [peer.service.pid],
    });
    const setup = "moleculer-web + 1 service, NATS transporter";
    record(
      out,
      await measure(ctx, {
        id: "peer-hello",
        label: "Moleculer → service, no DB",
        setup,
        cpuGroups,
        drive: wrkDriver(ctx, `${peer.base}/api/bench/hello`),
      }),
    );
    record(
      out,
      await measure(ctx, {
        id: "peer-item",
        label: "Moleculer → service, libsql row by id",
        setup,
        cpuGroups,
        drive: wrkDriver(ctx, peer.base, await itemsScript(ctx)),
      }),
    );
  } finally {
    await stopServers([peer.gateway, peer.service]);
  }
  // Moleculer runs on Bun too: with the allocator setting our launchers give every process
  // (shared/runtime/allocator.ts) it saves CPU as well, so the lever is not ours alone.
  ctx.progress.step("peer: Moleculer again, with the kit's allocator setting");
  const tuned = await startPeer(ctx, { ...ALLOCATOR_ENV });
  try {
    record(
      out,
      await measure(ctx, {
        id: "peer-hello-tuned",
        label: "Moleculer → service, no DB, with the kit's allocator setting",
        setup: `moleculer-web + 1 service, NATS transporter, ${envText(ALLOCATOR_ENV)}`,
        cpuGroups: () => ({
          gateway: [tuned.gateway.pid],
          nats: [ctx.natsPid],
          service: [tuned.service.pid],
        }),
        drive: wrkDriver(ctx, `${tuned.base}/api/bench/hello`),
      }),
    );
  } finally {
    await stopServers([tuned.gateway, tuned.service]);
  }
}
