/**
 * The edge rows: the service alone (its own port), edge → service without and
 * with a SQLite read, response sizes, growth to 2, 3 and 4 instances, and the
 * other EDGE_WORKERS count. One bench service and one edge are started once
 * and kept for all rows; instances are added for growth and removed after.
 */
import type { BenchContext } from "../lib/context.ts";
import { wrkDriver } from "../lib/drivers.ts";
import { measure, wanted } from "../lib/measure.ts";
import { type Child, rssMB, stopServer, stopServers } from "../lib/procs.ts";
import { startBenchService, startEdge } from "../lib/stacks.ts";
import { itemsScript } from "../lib/wrk-scripts.ts";
import { record, type SuiteResults } from "./results.ts";

const SIZES = [
  { bytes: 100, name: "100 B" },
  { bytes: 10_000, name: "10 KB" },
  { bytes: 500_000, name: "500 KB" },
];

/** Seconds of idle before reading resident memory ("after start and a short idle"). */
export const IDLE_SECONDS = 2;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Runs the `edge` and/or `growth` groups, as `options.groups` asks. */
export async function runEdgeGroups(ctx: BenchContext, out: SuiteResults): Promise<void> {
  const { options, progress } = ctx;
  const services: Child[] = [];
  progress.step(`edge: starting the bench service and the edge (EDGE_WORKERS=${options.edgeWorkers})`);
  services.push(await startBenchService(ctx, 1, 1));
  let edge = await startEdge(ctx, options.edgeWorkers);
  try {
    await Bun.sleep(IDLE_SECONDS * 1000);
    out.memory.service = rssMB(services[0]!.pid);
    out.memory.edgeWorkers = edge.workerPids().map(rssMB);
    out.memory.edgeSupervisor = rssMB(edge.child.pid);

    /** One edge row: wrk through the current edge, CPU split into edge / nats / service. */
    const row = async (id: string, label: string, path: string, script?: string) => {
      const setup = `${plural(edge.workers, "edge worker")}, ${plural(services.length, "instance")}`;
      const cpuGroups = () => ({
        edge: [edge.child.pid, ...edge.workerPids()],
        nats: [ctx.natsPid],
        service: services.map((s) => s.pid),
      });
      const drive = wrkDriver(ctx, `${edge.base}${path}`, script);
      record(out, await measure(ctx, { id, label, setup, cpuGroups, drive }));
    };

    if (options.groups.includes("edge")) {
      await directRow(ctx, out, services[0]!);
      await row("edge-hello", "edge → service, no DB", "/api/bench/hello");
      await row("edge-item", "edge → service, SQLite row by id", "", await itemsScript(ctx));
      for (const s of SIZES) {
        await row(`edge-bytes-${s.bytes}`, `edge → service, ${s.name} body`, `/api/bench/bytes/${s.bytes}`);
      }
      out.memory.serviceAfterLoad = rssMB(services[0]!.pid);
      out.memory.edgeWorkersAfterLoad = edge.workerPids().map(rssMB);
    }
    if (options.groups.includes("growth")) {
      // 3: the balancer's cost against one instance (BENCHMARKS.md "Choosing the instance").
      for (const n of [2, 3, 4]) {
        if (!wanted(ctx, `edge-hello-x${n}`)) continue;
        progress.step(`growth: starting bench service instances up to ${n}`);
        while (services.length < n) {
          services.push(await startBenchService(ctx, services.length + 1, services.length + 1));
        }
        await row(`edge-hello-x${n}`, "edge → service, no DB", "/api/bench/hello");
      }
      await stopServers(services.splice(1));
    }
    const other = options.edgeWorkers === 1 ? 2 : 1;
    if (options.groups.includes("edge") && wanted(ctx, `edge-hello-w${other}`)) {
      progress.step(`edge: restarting the edge with EDGE_WORKERS=${other}`);
      await stopServer(edge.child);
      edge = await startEdge(ctx, other);
      await row(`edge-hello-w${other}`, "edge → service, no DB", "/api/bench/hello");
    }
  } finally {
    await stopServers([edge.child, ...services]);
  }
}

/** The bench service on its own HTTP port: the kit's app with no edge and no NATS in the way. */
async function directRow(ctx: BenchContext, out: SuiteResults, service: Child): Promise<void> {
  const base = await directUrl(service);
  record(
    out,
    await measure(ctx, {
      id: "service-direct",
      label: "bench service direct (its own HTTP port)",
      setup: "kit app, no edge, no NATS",
      cpuGroups: () => ({ service: [service.pid] }),
      drive: wrkDriver(ctx, `${base}/api/bench/hello`),
    }),
  );
}

/** The service's own HTTP URL, from the "service ready" line it logs. */
async function directUrl(service: Child): Promise<string> {
  const log = await Bun.file(service.log).text();
  const m = /"url":"(http:\/\/[^"]+)".*"msg":"service ready"/.exec(log);
  if (!m) throw new Error(`no "service ready" line with a url in ${service.log}`);
  return m[1]!;
}
