/** @jsxImportSource hono/jsx/dom */
/**
 * The last 15 minutes in pictures: one uPlot chart per figure (requests/s,
 * errors/s, p99, outbox backlog, consumer lag), one line per service. A chart
 * is made once and then only given new data, so it keeps its size and the
 * reader's cursor; it is made again when the set of services changes. Each
 * chart is an image with a label and a legend in words under it.
 */
import { useEffect, useRef } from "hono/jsx/dom";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { ServiceCharts } from "../types.ts";
import { millis, rate } from "./format.ts";

type Figure = {
  id: string;
  title: string;
  unit: string;
  values: (s: ServiceCharts["services"][number]) => (number | null)[];
  format: (v: number) => string;
};

const FIGURES: Figure[] = [
  {
    id: "rps",
    title: "Requests per second",
    unit: "req/s",
    values: (s) => s.requestsPerSecond,
    format: rate,
  },
  {
    id: "errors",
    title: "Errors (5xx) per second",
    unit: "5xx/s",
    values: (s) => s.errorsPerSecond,
    format: rate,
  },
  { id: "p99", title: "p99 latency", unit: "ms", values: (s) => s.p99Ms, format: (v) => millis(v) },
  {
    id: "outbox",
    title: "Outbox backlog",
    unit: "events",
    values: (s) => s.outboxBacklog,
    format: (v) => String(Math.round(v)),
  },
  {
    id: "lag",
    title: "Consumer lag",
    unit: "events",
    values: (s) => s.consumerLag,
    format: (v) => String(Math.round(v)),
  },
];

/** Line colours, each at least 3:1 against white. */
const COLOURS = ["#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490", "#4d7c0f", "#a21caf"];

/** Every figure's chart. */
export function Charts({ charts }: { charts: ServiceCharts }) {
  const names = charts.services.map((s) => s.name);
  return (
    <div class="charts">
      {FIGURES.map((f) => (
        // A new set of services is a new chart (uPlot's series are fixed at creation).
        <Chart key={`${f.id}:${names.join(",")}`} figure={f} charts={charts} />
      ))}
    </div>
  );
}

function dataOf(figure: Figure, charts: ServiceCharts): uPlot.AlignedData {
  const xs = charts.services[0]?.requestsPerSecond.map((_, i) => charts.start + i * charts.stepSeconds) ?? [];
  return [xs, ...charts.services.map((s) => figure.values(s))];
}

function Chart({ figure, charts }: { figure: Figure; charts: ServiceCharts }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // One chart per box, even if the renderer runs this again before the cleanup of the last.
    plot.current?.destroy();
    el.replaceChildren();
    const u = new uPlot(
      {
        width: Math.max(280, Math.min(560, el.clientWidth || 420)),
        height: 180,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [
          {},
          { label: figure.unit, size: 60, values: (_u, ticks) => ticks.map((t) => figure.format(t)) },
        ],
        series: [
          { label: "time" },
          ...charts.services.map((s, i) => ({
            label: s.name,
            stroke: COLOURS[i % COLOURS.length],
            width: 2,
            value: (_u: uPlot, v: number | null) => (v === null ? "–" : `${figure.format(v)} ${figure.unit}`),
          })),
        ],
      },
      dataOf(figure, charts),
      el,
    );
    plot.current = u;
    return () => {
      u.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(dataOf(figure, charts));
  }, [charts]);
  const names = charts.services.map((s) => s.name).join(", ") || "no services";
  return (
    <figure class="chart" data-chart={figure.id}>
      <figcaption>{figure.title}, last 15 minutes</figcaption>
      <div
        ref={box}
        role="img"
        aria-label={`${figure.title} over the last 15 minutes, in ${figure.unit}: ${names}`}
      />
    </figure>
  );
}
