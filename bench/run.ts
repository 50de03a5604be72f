/**
 * `npm run bench`: throughput and latency of the shipped stack (`npm run dev`)
 * and, as reference, of the edge with a bench service (the kit without the
 * app) beside the direct HTTP and raw NATS ceilings and the Moleculer peer,
 * and the kit's tasks beside BullMQ on redis-server, measured in one run on
 * this machine, with start-up time and memory. Prints
 * progress as it goes, then the tables, and writes them into BENCHMARKS.md.
 *
 *   bun bench/run.ts [--quick] [--runs N] [--seconds S] [--only stack,peer,tasks] [--profile [--stack|--logic]]   (see lib/options.ts)
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { NatsServer, natsServerBin } from "@runnerly/kit/testing";
import { measureEventRates, pairProgress } from "./events/pipeline.ts";
import type { BenchContext } from "./lib/context.ts";
import { describeMachine } from "./lib/machine.ts";
import { renderMarkdown, writeReport } from "./lib/markdown.ts";
import { parseBenchOptions } from "./lib/options.ts";
import { pairingPlan } from "./lib/pairs.ts";
import { detectPinning, pinSelfToLoadCores, pinToServerCores } from "./lib/pin.ts";
import { expectedSeconds } from "./lib/plan.ts";
import { createProgress } from "./lib/progress.ts";
import { createQuietGate } from "./lib/quiet.ts";
import { runProfile } from "./profile.ts";
import { runLogicProfile } from "./profile-logic.ts";
import { runStackProfile } from "./profile-stack.ts";
import { seedPeerStore, seedServiceStore } from "./service/seed.ts";
import { runCeilings } from "./suite/ceilings.ts";
import { runEdgeGroups } from "./suite/edge.ts";
import { runPeer, startPeerPartners } from "./suite/peer.ts";
import { emptyResults } from "./suite/results.ts";
import { runStack } from "./suite/stack.ts";
import { runStartup } from "./suite/startup.ts";
import { runTasks } from "./suite/tasks.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
process.chdir(root);
// Exit handlers kill every server we started (by PID); make signals take that path.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

const options = parseOrExit();
const pin = detectPinning();
pinSelfToLoadCores(pin);
const progress = createProgress();
const minutes = (s: number) => `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
if (!options.profile) {
  const waits =
    options.quietWait > 0 ? ` (plus up to ${minutes(options.quietBudget)} waiting for a quiet machine)` : "";
  progress.step(`Runnerly benchmark: expected duration about ${minutes(expectedSeconds(options))}${waits}`);
}
progress.step(pin.summary);

const workDir = join(root, ".data", "bench");
const logDir = join(workDir, "logs");
mkdirSync(logDir, { recursive: true });
/** Pairs of event-pipeline runs (raw JetStream, then the pipeline): one lasts a fraction of a second. */
const EVENT_PAIRS = 3;
// Events per run: 2,000 lasted 0.1–0.3 s, mostly the pipeline filling and draining, and its pairs
// ranged 30–48 % of raw; at 20,000 each run is in its steady state and pairs agree within a few per cent.
const EVENT_COUNT = 20_000;
const serviceDb = join(workDir, "bench.db");
const peerDb = join(workDir, "peer.db");
progress.step("seeding the bench service's store and the peer's SQLite file");
await seedServiceStore(serviceDb);
await seedPeerStore(peerDb);

const nats = await NatsServer.start({ jetstream: false });
pinToServerCores(pin, nats.pid!);
progress.step(`nats-server on ${nats.url} (pid ${nats.pid})`);
const nc = await connect({ servers: nats.url, name: "bench-runner" });
const ctx: BenchContext = {
  root,
  bun: process.execPath,
  natsUrl: nats.url,
  natsPid: nats.pid!,
  nc,
  pin,
  options,
  progress,
  quiet: createQuietGate(options.quietWait, options.quietBudget),
  workDir,
  logDir,
  serviceDb,
  peerDb,
};

try {
  if (options.profile) {
    if (options.logic) await runLogicProfile(ctx);
    else await (options.stack ? runStackProfile(ctx) : runProfile(ctx));
  } else {
    const machine = describeMachine(natsServerBin());
    const results = emptyResults();
    const { groups } = options;
    if (groups.includes("stack")) {
      // The headline pairs' peer rows run with the stack's, their runs alternating (lib/pairs.ts).
      const partners = await startPeerPartners(ctx, pairingPlan(options));
      try {
        await runStack(ctx, results, partners?.byStackRow);
      } finally {
        await partners?.stop();
      }
    }
    if (groups.includes("ceilings")) await runCeilings(ctx, results);
    if (groups.includes("edge") || groups.includes("growth")) await runEdgeGroups(ctx, results);
    if (groups.includes("peer")) await runPeer(ctx, results);
    if (groups.includes("startup")) await runStartup(ctx, results);
    if (groups.includes("events")) {
      progress.step(
        `event pipeline: raw JetStream, then outbox → consumer (a nats-server of their own), ${EVENT_PAIRS} pairs`,
      );
      results.events = await measureEventRates(
        options.quick ? EVENT_COUNT / 4 : EVENT_COUNT,
        EVENT_PAIRS,
        (i, pair) => progress.step(`event pipeline: ${pairProgress(i, EVENT_PAIRS, pair)}`),
      );
    }
    if (groups.includes("tasks")) await runTasks(ctx, results);
    results.quietWaitedSeconds = ctx.quiet.waitedSeconds();
    const markdown = renderMarkdown(results, machine, pin, options);
    console.log(`\n${markdown}`);
    if (options.write) {
      writeReport(options.out, markdown);
      progress.step(`wrote ${options.out}`);
    } else {
      progress.step(
        `not written to ${options.out} (${options.quick ? "--quick" : "--no-write"}; add --write to keep it)`,
      );
    }
    progress.step(`done; server logs in ${logDir}`);
  }
} finally {
  await nc.close();
  await nats.stop();
}

function parseOrExit() {
  try {
    return parseBenchOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\nsee the options in bench/lib/options.ts`);
    process.exit(2);
  }
}
