/** @jsxImportSource hono/jsx/dom */
/**
 * The topology as an inline SVG: four columns (edge, services, streams and
 * task queues, consumers), one box per node coloured by status, and a curve
 * per link (dashed: a requester's tasks to the owner's queue).
 */
import type { Snapshot, TopologyNode } from "../types.ts";
import { age } from "./format.ts";

type Kind = TopologyNode["kind"];
/** Each column's kinds: task queues are streams too, drawn below the event streams. */
const COLUMNS: Kind[][] = [["edge"], ["service"], ["stream", "queue"], ["consumer"]];
const WIDTH = [80, 170, 220, 260];
const GAP = 64;
const ROW = 42;
const BOX = 30;
const PAD = 8;
const CHAR_PX = 7.4;

type Placed = { node: TopologyNode; x: number; y: number; w: number };

/** Draws `snapshot.topology`. */
export function Topology({ topology }: { topology: Snapshot["topology"] }) {
  const { nodes, links } = topology;
  const columns = COLUMNS.map((kinds) => kinds.flatMap((kind) => nodes.filter((n) => n.kind === kind)));
  const rows = Math.max(1, ...columns.map((c) => c.length));
  const height = rows * ROW + 2 * PAD;
  const placed = new Map<string, Placed>();
  let x = PAD;
  COLUMNS.forEach((_kinds, i) => {
    const col = columns[i] ?? [];
    const w = WIDTH[i] ?? 180;
    const top = PAD + ((rows - col.length) * ROW) / 2;
    for (const [j, node] of col.entries()) {
      placed.set(node.id, { node, x, y: top + j * ROW + (ROW - BOX) / 2, w });
    }
    x += w + GAP;
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
            class={`link ${link.kind ?? ""} ${b.node.status ?? ""}`}
            data-link={`${link.from}>${link.to}`}
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
    node.kind === "consumer"
      ? `, ${node.pending ?? 0} pending`
      : node.kind === "queue"
        ? queueDetail(node)
        : node.status
          ? `: ${node.status}`
          : "";
  const figure =
    node.kind === "consumer" ? String(node.pending ?? 0) : node.kind === "queue" ? depth(node) : null;
  return (
    <g class={`node ${node.kind} ${node.status ?? ""}`} data-node={node.id}>
      <title>{`${node.kind} ${node.label}${detail}`}</title>
      <rect x={x} y={y} width={w} height={BOX} rx={6} ry={6} />
      <text x={x + 8} y={y + BOX / 2 + 4.5}>
        {text}
      </text>
      {figure !== null && (
        <text x={x + w - 8} y={y + BOX / 2 + 4.5} class="lag" text-anchor="end">
          {figure}
        </text>
      )}
    </g>
  );
}

/** A queue's depth in its box: the tasks in it, `?` when its owner does not report it. */
function depth(node: TopologyNode): string {
  return node.depth === null || node.depth === undefined ? "?" : String(node.depth);
}

/** `, 3 tasks, oldest 12 s`: what a queue's tooltip adds to its name. */
function queueDetail(node: TopologyNode): string {
  if (node.depth === null || node.depth === undefined)
    return ", depth unknown (its owner does not report it)";
  const oldest =
    node.oldestAgeMs === null || node.oldestAgeMs === undefined ? "" : `, oldest ${age(node.oldestAgeMs)}`;
  return `, ${node.depth} ${node.depth === 1 ? "task" : "tasks"}${oldest}`;
}
