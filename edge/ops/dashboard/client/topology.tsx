/** @jsxImportSource hono/jsx/dom */
/**
 * The topology as an inline SVG: four columns (edge, services, streams,
 * consumers), one box per node coloured by status, and a curve per link.
 */
import type { Snapshot, TopologyNode } from "../types.ts";

const COLUMNS: TopologyNode["kind"][] = ["edge", "service", "stream", "consumer"];
const WIDTH: Record<TopologyNode["kind"], number> = { edge: 80, service: 170, stream: 180, consumer: 260 };
const GAP = 64;
const ROW = 42;
const BOX = 30;
const PAD = 8;
const CHAR_PX = 7.4;

type Placed = { node: TopologyNode; x: number; y: number; w: number };

/** Draws `snapshot.topology`. */
export function Topology({ topology }: { topology: Snapshot["topology"] }) {
  const { nodes, links } = topology;
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
  return (
    <svg
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      role="img"
      aria-label={`Topology: edge → ${names.join(", ") || "no services"}`}
      class="topology"
    >
      {links.map((link) => {
        const a = placed.get(link.from);
        const b = placed.get(link.to);
        if (!a || !b) return null;
        const x1 = a.x + a.w;
        const y1 = a.y + BOX / 2;
        const x2 = b.x;
        const y2 = b.y + BOX / 2;
        const mid = (x1 + x2) / 2;
        return (
          <path
            key={`${link.from}>${link.to}`}
            d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
            class={`link ${b.node.status ?? ""}`}
          />
        );
      })}
      {[...placed.values()].map((p) => (
        <Box key={p.node.id} {...p} />
      ))}
    </svg>
  );
}

function Box({ node, x, y, w }: Placed) {
  const max = Math.floor((w - 16) / CHAR_PX);
  const text = node.label.length > max ? `${node.label.slice(0, max - 1)}…` : node.label;
  const detail =
    node.kind === "consumer" ? `, ${node.pending ?? 0} pending` : node.status ? `: ${node.status}` : "";
  return (
    <g class={`node ${node.kind} ${node.status ?? ""}`} data-node={node.id}>
      <title>{`${node.kind} ${node.label}${detail}`}</title>
      <rect x={x} y={y} width={w} height={BOX} rx={6} ry={6} />
      <text x={x + 8} y={y + BOX / 2 + 4.5}>
        {text}
      </text>
      {node.kind === "consumer" && (
        <text x={x + w - 8} y={y + BOX / 2 + 4.5} class="lag" text-anchor="end">
          {node.pending ?? 0}
        </text>
      )}
    </g>
  );
}
