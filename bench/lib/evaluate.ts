/**
 * From measured scenarios to the figures the targets are stated in: the
 * combined ceiling, the ratios, and each target met or not (and by how much).
 * A ratio of two rows measured as a pair is the median of its per-run ratios.
 */
import type { SuiteResults } from "../suite/results.ts";
import type { ScenarioResult } from "./measure.ts";
import { pairedRatio } from "./pairs.ts";
import { combinedCeiling, median, ratio } from "./stats.ts";

/** `paired`: the two rows' runs alternated and the value is the median of the per-run ratios. */
export type Ratio = { name: string; value: number; explain: string; paired?: boolean };
export type Target = { name: string; goal: string; measured: string; met: boolean | null; gap: string };

/** Finds a scenario by id (undefined when its group did not run). */
export function scenario(results: SuiteResults, id: string): ScenarioResult | undefined {
  return results.scenarios.find((s) => s.id === id);
}

/**
 * `a` ÷ `b` by req/s: the median of the per-run ratios when the two were
 * measured as a pair, else the ratio of their medians (NaN when a side is missing).
 *
 * @example
 * rowRatio(results, "stack-public", "peer-hello"); // { value: 1.2, paired: true }
 */
export function rowRatio(results: SuiteResults, a: string, b: string): { value: number; paired: boolean } {
  const x = scenario(results, a);
  const y = scenario(results, b);
  if (x && y && x.pairedWith === b && y.pairedWith === a)
    return { value: pairedRatio(x.runs, y.runs), paired: true };
  return { value: ratio(x?.rps ?? Number.NaN, y?.rps ?? Number.NaN), paired: false };
}

/**
 * The ratios the report prints, NaN where a side was not measured.
 *
 * @example
 * ratios(results).find((r) => r.name.startsWith("stack public GET ÷ Moleculer"))?.value;
 */
export function ratios(results: SuiteResults): Ratio[] {
  const rps = (id: string) => scenario(results, id)?.rps ?? Number.NaN;
  const combined = combinedCeiling(rps("http-ceiling"), rps("nats-ceiling"));
  return [
    {
      name: "stack public GET ÷ Moleculer hello",
      ...rowRatio(results, "stack-public", "peer-hello"),
      explain: "the shipped stack's public route against Moleculer's no-DB action",
    },
    {
      name: "stack public GET ÷ Moleculer hello, same allocator setting",
      value: ratio(rps("stack-public"), rps("peer-hello-tuned")),
      explain:
        "the same, with Moleculer's processes given the allocator setting the stack's launcher gives ours",
    },
    {
      name: "stack GET by id ÷ Moleculer libsql row",
      ...rowRatio(results, "stack-run", "peer-item"),
      explain: "an authenticated point read (token verified, owner checked) against Moleculer's libsql read",
    },
    {
      name: "stack public GET ÷ kit edge row",
      value: ratio(rps("stack-public"), rps("edge-hello")),
      explain:
        "the app's cost over the kit: the shipped stack (NATS users, auth on, four services) against the bench service's no-DB row",
    },
    { name: "combined ceiling (req/s)", value: combined, explain: "1 / (1/HTTP + 1/NATS)" },
    {
      name: "kit edge ÷ combined ceiling",
      value: ratio(rps("edge-hello"), combined),
      explain: "no-DB route",
    },
    {
      name: "kit edge ÷ Moleculer",
      value: ratio(rps("edge-hello"), rps("peer-hello")),
      explain: "no-DB route",
    },
    {
      name: "kit edge SQLite ÷ Moleculer libsql",
      value: ratio(rps("edge-item"), rps("peer-item")),
      explain: "point read by id, anonymous",
    },
    {
      name: "kit edge ÷ service direct",
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

/** Each target (the issue's) with its measured value; `met` is null when not measured in this run. */
export function targets(results: SuiteResults, connections: number): Target[] {
  const r = ratios(results);
  const value = (name: string) => r.find((x) => x.name === name)?.value ?? Number.NaN;
  const digits = (x: number) => (x < 10 ? 2 : 0);
  const show = (x: number, unit: string) =>
    unit === "×"
      ? `${x.toFixed(2)}×`
      : `${x.toLocaleString("en-US", { maximumFractionDigits: digits(x) })} ${unit}`;
  const atLeast = (name: string, goal: number, unit: string, measured: number): Target =>
    Number.isFinite(measured)
      ? {
          name,
          goal: `≥ ${show(goal, unit)}`,
          measured: show(measured, unit),
          met: measured >= goal,
          gap: measured >= goal ? "" : `needs ${(goal / measured).toFixed(2)}× more`,
        }
      : { name, goal: `≥ ${show(goal, unit)}`, measured: "not measured", met: null, gap: "" };
  const atMost = (name: string, goal: number, unit: string, measured: number): Target =>
    Number.isFinite(measured)
      ? {
          name,
          goal: `≤ ${goal} ${unit}`,
          measured: `${measured.toFixed(digits(measured))} ${unit}`,
          met: measured <= goal,
          gap:
            measured <= goal
              ? ""
              : `${(measured - goal).toFixed(digits(measured))} ${unit} over (${(measured / goal).toFixed(1)}×)`,
        }
      : { name, goal: `≤ ${goal} ${unit}`, measured: "not measured", met: null, gap: "" };
  // The shipped stack's rows (suite/stack.ts) are the ones whose id starts with "stack-".
  const stackRows = results.scenarios.filter((s) => s.id.startsWith("stack-"));
  const worst = stackRows.reduce<ScenarioResult | undefined>(
    (w, s) => (w && w.p99 >= s.p99 ? w : s),
    undefined,
  );
  const rss = Math.max(results.memory.service ?? Number.NaN, ...(results.memory.edgeWorkers ?? [Number.NaN]));
  return [
    atLeast("public GET vs Moleculer hello", 2.5, "×", value("stack public GET ÷ Moleculer hello")),
    atLeast(
      "authenticated GET by id vs Moleculer libsql read",
      2,
      "×",
      value("stack GET by id ÷ Moleculer libsql row"),
    ),
    atMost(
      `p99 at ${connections} connections (worst stack row${worst ? `: ${worst.id}` : ""})`,
      10,
      "ms",
      worst?.p99 ?? Number.NaN,
    ),
    atMost(
      "nats-server CPU per request (stack public GET)",
      15,
      "µs",
      scenario(results, "stack-public")?.cpuUsPerRequest.nats ?? Number.NaN,
    ),
    atMost(
      "start → registered on NATS (bench service bundled, as the image runs it; median)",
      150,
      "ms",
      median(results.startupMs),
    ),
    atLeast("event pipeline vs raw JetStream", 0.5, "×", results.events?.ratio ?? Number.NaN),
    atLeast(
      "POST through the edge (stack)",
      2000,
      "req/s",
      scenario(results, "stack-post")?.rps ?? Number.NaN,
    ),
    atMost("idle RSS per process (worst of bench service, edge workers)", 80, "MB", rss),
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

/**
 * What choosing the instance costs the edge: its CPU per request with one
 * instance of the bench service against three (the balancer then draws two,
 * compares their costs, books tries in flight and arms a hedge timer).
 */
export function balancerVerdict(results: SuiteResults): string {
  const one = scenario(results, "edge-hello");
  const three = scenario(results, "edge-hello-x3");
  if (!one || !three) return "not measured in this run";
  const a = one.cpuUsPerRequest.edge ?? 0;
  const b = three.cpuUsPerRequest.edge ?? 0;
  return `edge ${a.toFixed(0)} µs per request with 1 instance, ${b.toFixed(0)} µs with 3 (${b >= a ? "+" : ""}${(b - a).toFixed(0)} µs); service CPU ${(one.cpuUsPerRequest.service ?? 0).toFixed(0)} vs ${(three.cpuUsPerRequest.service ?? 0).toFixed(0)} µs`;
}
