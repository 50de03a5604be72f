/** @jsxImportSource hono/jsx/dom */
/**
 * A small accessible bar chart in SVG: the picture is one image whose label
 * summarises it, and the figures are in a visually hidden table for screen
 * readers. Sizes are SVG attributes (never style attributes, which the
 * page's Content-Security-Policy forbids).
 */

export type Bar = {
  /** Full name of the period ("week 47 of 2026"). */
  label: string;
  /** What goes under the bar ("W47"). */
  short: string;
  value: number;
  /** The row of the data table, first cell the period. */
  cells: string[];
};

export type BarChartProps = {
  title: string;
  /** Headers of the data table, matching `cells`. */
  columns: string[];
  /** Bars oldest first. */
  bars: Bar[];
  /** The value as written on a bar ("12.5"). */
  format: (value: number) => string;
  /** The unit named in the summary ("km"). */
  unit: string;
};

const W = 600;
const H = 220;
const TOP = 22;
const BOTTOM = 26;

/** The chart with its summary label and data table. */
export function BarChart({ title, columns, bars, format, unit }: BarChartProps) {
  const max = Math.max(...bars.map((b) => b.value), 0);
  const slot = W / Math.max(bars.length, 1);
  const width = Math.min(slot * 0.7, 64);
  const plot = H - TOP - BOTTOM;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summarise(title, bars, format, unit)}>
        <line class="axis" x1="0" x2={String(W)} y1={String(H - BOTTOM)} y2={String(H - BOTTOM)} />
        {bars.map((b, i) => {
          const h = max > 0 && b.value > 0 ? Math.max((b.value / max) * plot, 2) : 0;
          const x = i * slot + (slot - width) / 2;
          const y = H - BOTTOM - h;
          const mid = String(x + width / 2);
          return (
            <g key={b.label}>
              <rect class="bar" x={String(x)} y={String(y)} width={String(width)} height={String(h)} rx="3">
                <title>{`${b.label}: ${format(b.value)} ${unit}`}</title>
              </rect>
              <text class="bar-value" x={mid} y={String(y - 6)} text-anchor="middle">
                {format(b.value)}
              </text>
              <text class="bar-label" x={mid} y={String(H - 8)} text-anchor="middle">
                {b.short}
              </text>
            </g>
          );
        })}
      </svg>
      {/* The wrapper hides the table: a table itself grows to its content whatever its width says. */}
      <div class="vh">
        <table>
          <caption>{title}</caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <th scope="col">{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {bars.map((b) => (
              <tr key={b.label}>
                {b.cells.map((cell, i) => (i === 0 ? <th scope="row">{cell}</th> : <td>{cell}</td>))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}

/** One sentence for the image: how many periods, the total, and the highest. */
export function summarise(title: string, bars: Bar[], format: (v: number) => string, unit: string): string {
  if (bars.length === 0) return `${title}: no data yet.`;
  const total = bars.reduce((sum, b) => sum + b.value, 0);
  const top = bars.reduce((best, b) => (b.value > best.value ? b : best));
  const first = bars[0]!.label;
  const last = bars.at(-1)!.label;
  const span = bars.length === 1 ? first : `${bars.length} periods from ${first} to ${last}`;
  return `${title}, ${span}: ${format(total)} ${unit} in all, most in ${top.label} with ${format(top.value)} ${unit}.`;
}
