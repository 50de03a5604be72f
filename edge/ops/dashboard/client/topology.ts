/**
 * The topology as an inline SVG: four columns (edge, services, streams,
 * consumers), one box per node coloured by status, and a curve per link.
 */
import type { Snapshot, TopologyNode } from "../types.ts";
import { svg } from "./dom.ts";

const COLUMNS: TopologyNode["kind"][] = ["edge", "service", "stream", "consumer"];
const WIDTH: Record<TopologyNode["kind"], number> = { edge: 80, service: 170, stream: 180, consumer: 260 };
const GAP = 64;
const ROW = 42;
const BOX = 30;
const PAD = 8;
const CHAR_PX = 7.4;

type Placed = { node: TopologyNode; x: number; y: number; w: number };

/**
 * Draws `snapshot.topology`.
 *
 * @example
 * section.append(topologySvg(snapshot));
 */
export function topologySvg(snapshot: Snapshot): SVGSVGElement {
  const { nodes, links } = snapshot.topology;
  const columns = COLUMNS.map((kind) => nodes.filter((n) => n.kind === kind));
  const rows = Math.max(1, ...columns.map((c) => c.length));
  const height = rows * ROW + 2 * PAD;
  const placed = new Map<string, Placed>();
  let x = PAD;
  COLUMNS.forEach((kind, i) => {
    const col = columns[i] ?? [];
    const top = PAD + ((rows - col.length) * ROW) / 2;
    for (const [j, node] of col.entries()) {
      placed.set(node.id, { node, x, y: top + j * ROW + (ROW - BOX) / 2, w: WIDTH[kind] });
    }
    x += WIDTH[kind] + GAP;
  });
  const width = x - GAP + PAD;

  const names = nodes.filter((n) => n.kind !== "edge").map((n) => n.label);
  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": `Topology: edge → ${names.join(", ") || "no services"}`,
    class: "topology",
  });
  for (const link of links) {
    const a = placed.get(link.from);
    const b = placed.get(link.to);
    if (!a || !b) continue;
    const x1 = a.x + a.w;
    const y1 = a.y + BOX / 2;
    const x2 = b.x;
    const y2 = b.y + BOX / 2;
    const mid = (x1 + x2) / 2;
    const status = b.node.status ?? "";
    root.append(
      svg("path", { d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, class: `link ${status}` }),
    );
  }
  for (const p of placed.values()) root.append(box(p));
  return root;
}

function box({ node, x, y, w }: Placed): SVGGElement {
  const max = Math.floor((w - 16) / CHAR_PX);
  const text = node.label.length > max ? `${node.label.slice(0, max - 1)}…` : node.label;
  const detail =
    node.kind === "consumer" ? `, ${node.pending ?? 0} pending` : node.status ? `: ${node.status}` : "";
  return svg(
    "g",
    { class: `node ${node.kind} ${node.status ?? ""}`, "data-node": node.id },
    svg("title", {}, `${node.kind} ${node.label}${detail}`),
    svg("rect", { x, y, width: w, height: BOX, rx: 6, ry: 6 }),
    svg("text", { x: x + 8, y: y + BOX / 2 + 4.5 }, text),
    node.kind === "consumer"
      ? svg(
          "text",
          { x: x + w - 8, y: y + BOX / 2 + 4.5, class: "lag", "text-anchor": "end" },
          node.pending ?? 0,
        )
      : null,
  );
}
