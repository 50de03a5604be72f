/**
 * From measured scenarios to the figures the targets are stated in: the
 * combined ceiling, the ratios, and each target met or not (and by how much).
 */
import type { SuiteResults } from "../suite/results.ts";
import type { ScenarioResult } from "./measure.ts";
import { combinedCeiling, median, ratio } from "./stats.ts";

export type Ratio = { name: string; value: number; explain: string };
export type Target = { name: string; goal: string; measured: string; met: boolean | null; gap: string };

/** Finds a scenario by id (undefined when its group did not run). */
export function scenario(results: SuiteResults, id: string): ScenarioResult | undefined {
  return results.scenarios.find((s) => s.id === id);
}

/**
 * The ratios the report prints, NaN where a side was not measured.
 *
 * @example
 * ratios(results).find((r) => r.name.startsWith("edge ÷ Moleculer"))?.value;
 */
export function ratios(results: SuiteResults): Ratio[] {
  const rps = (id: string) => scenario(results, id)?.rps ?? Number.NaN;
  const combined = combinedCeiling(rps("http-ceiling"), rps("nats-ceiling"));
  return [
    { name: "combined ceiling (req/s)", value: combined, explain: "1 / (1/HTTP + 1/NATS)" },
    { name: "edge ÷ combined ceiling", value: ratio(rps("edge-hello"), combined), explain: "no-DB route" },
    { name: "edge ÷ Moleculer", value: ratio(rps("edge-hello"), rps("peer-hello")), explain: "no-DB route" },
    {
      name: "edge SQLite ÷ Moleculer libsql",
      value: ratio(rps("edge-item"), rps("peer-item")),
      explain: "point read by id",
    },
    {
      name: "edge ÷ service direct",
      value: ratio(rps("edge-hello"), rps("service-direct")),
      explain: "what the gateway hop costs",
    },
    {
      name: "NATS + headers ÷ bare NATS",
      value: ratio(rps("nats-headers"), rps("nats-ceiling")),
      explain: "price of the metadata as NATS headers",
    },
    {
      name: "NATS + JSON envelope ÷ bare NATS",
      value: ratio(rps("nats-json"), rps("nats-ceiling")),
      explain: "the same metadata as a JSON body",
    },
  ];
}

/** Each target with its measured value; `met` is null when not measured in this run. */
export function targets(results: SuiteResults, connections: number): Target[] {
  const r = ratios(results);
  const value = (name: string) => r.find((x) => x.name === name)?.value ?? Number.NaN;
  const atLeast = (name: string, goal: number, measured: number): Target =>
    Number.isFinite(measured)
      ? {
          name,
          goal: `≥ ${goal}×`,
          measured: `${measured.toFixed(2)}×`,
          met: measured >= goal,
          gap: measured >= goal ? "" : `needs ${(goal / measured).toFixed(2)}× more throughput`,
        }
      : { name, goal: `≥ ${goal}×`, measured: "not measured", met: null, gap: "" };
  const atMost = (name: string, goal: number, unit: string, measured: number): Target =>
    Number.isFinite(measured)
      ? {
          name,
          goal: `≤ ${goal} ${unit}`,
          measured: `${measured.toFixed(measured < 10 ? 2 : 0)} ${unit}`,
          met: measured <= goal,
          gap:
            measured <= goal
              ? ""
              : `${(measured - goal).toFixed(measured < 10 ? 2 : 0)} ${unit} over (${(measured / goal).toFixed(1)}×)`,
        }
      : { name, goal: `≤ ${goal} ${unit}`, measured: "not measured", met: null, gap: "" };
  const p99 = Math.max(
    scenario(results, "edge-hello")?.p99 ?? Number.NaN,
    scenario(results, "edge-item")?.p99 ?? Number.NaN,
  );
  const rss = Math.max(results.memory.service ?? Number.NaN, ...(results.memory.edgeWorkers ?? [Number.NaN]));
  return [
    atLeast("edge vs combined ceiling", 0.9, value("edge ÷ combined ceiling")),
    atLeast("edge vs Moleculer", 2.5, value("edge ÷ Moleculer")),
    atLeast("SQLite path vs Moleculer-libsql", 2.5, value("edge SQLite ÷ Moleculer libsql")),
    atMost(`edge p99 at ${connections} concurrent (worst of no-DB, SQLite)`, 5, "ms", p99),
    atMost("start → registered on NATS (median)", 150, "ms", median(results.startupMs)),
    atMost("idle RSS per process (worst of service, edge workers)", 80, "MB", rss),
  ];
}

/** Which edge worker count was faster on the no-DB route, as a sentence. */
export function workerVerdict(results: SuiteResults, mainWorkers: number): string {
  const main = scenario(results, "edge-hello");
  const other = results.scenarios.find((s) => /^edge-hello-w\d+$/.test(s.id));
  if (!main || !other) return "not measured in this run";
  const otherWorkers = Number(other.id.replace("edge-hello-w", ""));
  const [fast, slow, fastN] =
    main.rps >= other.rps ? [main, other, mainWorkers] : [other, main, otherWorkers];
  const gain = ((fast.rps / slow.rps - 1) * 100).toFixed(0);
  return `${fastN} edge worker${fastN === 1 ? "" : "s"} faster: ${Math.round(fast.rps)} vs ${Math.round(slow.rps)} req/s (+${gain} %), p99 ${fast.p99.toFixed(2)} vs ${slow.p99.toFixed(2)} ms`;
}
