/**
 * The Moleculer peer: moleculer-web gateway → NATS → a service with hello and
 * a libsql point read. Its rows that pair with a stack row (lib/pairs.ts) are
 * measured with the stack group, the peer started beside the stack; the rest
 * here, as before.
 */

import { ALLOCATOR_ENV } from "@runnerly/kit/runtime";
import type { BenchContext } from "../lib/context.ts";
import { wrkDriver } from "../lib/drivers.ts";
import { measure, type Scenario, wanted } from "../lib/measure.ts";
import type { Pair } from "../lib/pairs.ts";
import { stopServers } from "../lib/procs.ts";
import { envText, startPeer } from "../lib/stacks.ts";
import { itemsScript } from "../lib/wrk-scripts.ts";
import { record, type SuiteResults } from "./results.ts";

type Peer = Awaited<ReturnType<typeof startPeer>>;

/** The peer rows other than the tuned one, in the order they run. */
const PEER_ROWS = ["peer-hello", "peer-item"] as const;

/** The peer's rows on a started peer, by id. */
async function peerScenarios(ctx: BenchContext, peer: Peer): Promise<Record<string, Scenario>> {
  const cpuGroups = () => ({
    gateway: [peer.gateway.pid],
    nats: [ctx.natsPid],
    service: [peer.service.pid],
  });
  const setup = "moleculer-web + 1 service, NATS transporter";
  return {
    "peer-hello": {
      id: "peer-hello",
      label: "Moleculer → service, no DB",
      setup,
      cpuGroups,
      drive: wrkDriver(ctx, `${peer.base}/api/bench/hello`),
    },
    "peer-item": {
      id: "peer-item",
      label: "Moleculer → service, libsql row by id",
      setup,
      cpuGroups,
      drive: wrkDriver(ctx, peer.base, await itemsScript(ctx)),
    },
  };
}

/** A started peer lent to the stack group: its scenarios by the stack row each pairs with. */
export type PeerPartners = { byStackRow: Map<string, Scenario>; stop(): Promise<void> };

/**
 * Starts the peer for the stack group when any pair is to be measured (null
 * otherwise). Idle, its two brokers cost next to nothing while the stack's
 * other rows run.
 *
 * @example
 * const partners = await startPeerPartners(ctx, pairingPlan(ctx.options));
 */
export async function startPeerPartners(
  ctx: BenchContext,
  pairs: readonly Pair[],
): Promise<PeerPartners | null> {
  if (pairs.length === 0) return null;
  ctx.progress.step(
    "peer: starting the Moleculer brokers beside the stack, to pair its rows with the stack's",
  );
  const peer = await startPeer(ctx);
  try {
    const scenarios = await peerScenarios(ctx, peer);
    const byStackRow = new Map(pairs.map((pair) => [pair.stack, scenarios[pair.peer]!]));
    return { byStackRow, stop: () => stopServers([peer.gateway, peer.service]) };
  } catch (err) {
    await stopServers([peer.gateway, peer.service]);
    throw err;
  }
}

/**
 * Measures the peer rows not measured yet (a paired row already is), then
 * hello once more with the kit's allocator setting.
 */
export async function runPeer(ctx: BenchContext, out: SuiteResults): Promise<void> {
  const measured = new Set(out.scenarios.map((s) => s.id));
  const rows = PEER_ROWS.filter((id) => wanted(ctx, id) && !measured.has(id));
  if (rows.length > 0) {
    ctx.progress.step("peer: starting the Moleculer service broker and the moleculer-web gateway");
    const peer = await startPeer(ctx);
    try {
      const scenarios = await peerScenarios(ctx, peer);
      for (const id of rows) record(out, await measure(ctx, scenarios[id]!));
    } finally {
      await stopServers([peer.gateway, peer.service]);
    }
  }
  if (wanted(ctx, "peer-hello-tuned")) await runTuned(ctx, out);
}

// Moleculer runs on Bun too: with the allocator setting our launchers give every process
// (shared/runtime/allocator.ts) it saves CPU as well, so the lever is not ours alone.
async function runTuned(ctx: BenchContext, out: SuiteResults): Promise<void> {
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
