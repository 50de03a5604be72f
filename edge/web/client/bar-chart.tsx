/** @jsxImportSource hono/jsx/dom */
/**
 * A small accessible bar chart in SVG: the picture is one image whose label
 * summarises it, and the figures are in a visually hidden table for screen
 * readers. A value axis with its unit and gridlines on the left, one slot
 * per period along the bottom (an empty period keeps its slot and shows 0),
 * and the periods' name under them. Sizes are SVG attributes (never style
 * attributes, which the page's Content-Security-Policy forbids).
 */

export type Bar = {
  /** Full name of the period ("week 47 of 2026"). */
  label: string;
  /** What goes under the bar ("47"). */
  short: string;
  /** Said before `short` where there is room ("W"); a phone shows `short` alone. */
  prefix?: string;
  value: number;
  /** The row of the data table, first cell the period. */
  cells: string[];
};

export type BarChartProps = {
  title: string;
  /** Headers of the data table, matching `cells`. */
  columns: string[];
  /** Bars oldest first, one per period, empty periods included. */
  bars: Bar[];
  /** The value as written on a bar and on the value axis ("12.5"). */
  format: (value: number) => string;
  /** The unit of the values, named atop the value axis and in the summary ("km"). */
  unit: string;
  /** What one bar is, for the summary ("week"). */
  period: string;
  /** The name of the axis along the bottom ("ISO week, 2026"). */
  axis: string;
};

const W = 600;
const H = 250;
const LEFT = 46;
const TOP = 34;
const BOTTOM = 58;

/** The chart with its summary label and data table. */
export function BarChart({ title, columns, bars, format, unit, period, axis }: BarChartProps) {
  const ticks = axisTicks(Math.max(...bars.map((b) => b.value), 0));
  const top = ticks.at(-1) ?? 1;
  const plot = H - TOP - BOTTOM;
  const base = H - BOTTOM;
  const slot = (W - LEFT) / Math.max(bars.length, 1);
  const width = Math.min(slot * 0.7, 64);
  const yOf = (v: number) => base - (v / top) * plot;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summarise(title, bars, format, unit, period)}>
        {ticks.map((t) => (
          <g key={String(t)}>
            <line
              class={t === 0 ? "axis" : "gridline"}
              x1={String(LEFT)}
              x2={String(W)}
              y1={String(yOf(t))}
              y2={String(yOf(t))}
            />
            <text class="tick" x={String(LEFT - 8)} y={String(yOf(t) + 5)} text-anchor="end">
              {format(t)}
            </text>
          </g>
        ))}
        <text class="unit" x={String(LEFT - 8)} y={String(TOP - 14)} text-anchor="end">
          {unit}
        </text>
        {bars.map((b, i) => {
          const h = b.value > 0 ? Math.max(base - yOf(b.value), 2) : 0;
          const x = LEFT + i * slot + (slot - width) / 2;
          const mid = String(x + width / 2);
          return (
            <g key={b.label}>
              {h > 0 && (
                <rect
                  class="bar"
                  x={String(x)}
                  y={String(base - h)}
                  width={String(width)}
                  height={String(h)}
                  rx="3"
                >
                  <title>{`${b.label}: ${format(b.value)} ${unit}`}</title>
                </rect>
              )}
              <text
                class={b.value > 0 ? "bar-value" : "bar-value empty"}
                x={mid}
                y={String(base - h - 6)}
                text-anchor="middle"
              >
                {format(b.value)}
              </text>
              <text class="bar-label" x={mid} y={String(base + 24)} text-anchor="middle">
                {b.prefix && <tspan class="label-prefix">{b.prefix}</tspan>}
                {b.short}
              </text>
            </g>
          );
        })}
        <text class="axis-title" x={String(LEFT + (W - LEFT) / 2)} y={String(H - 6)} text-anchor="middle">
          {axis}
        </text>
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

/**
 * Round values for the value axis, from 0 to at least `max`, about four
 * steps of 1, 2 or 5 times a power of ten.
 *
 * @example
 * axisTicks(15.9) // [0, 5, 10, 15, 20]
 */
export function axisTicks(max: number): number[] {
  // Nothing to show still gets an axis, from 0 to 1.
  if (!(max > 0)) return [0, 1];
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((n) => raw <= n * magnitude) ?? 10) * magnitude;
  const count = Math.max(1, Math.ceil(max / step - 1e-9));
  // Multiplying (not adding) keeps 0.1 steps free of 0.30000000000000004.
  return Array.from({ length: count + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

/** One sentence for the image: how many periods, the total, the highest, and how many are empty. */
export function summarise(
  title: string,
  bars: Bar[],
  format: (v: number) => string,
  unit: string,
  period: string,
): string {
  if (bars.length === 0) return `${title}: no data yet.`;
  const first = bars[0]!.label;
  const last = bars.at(-1)!.label;
  const span = bars.length === 1 ? first : `${bars.length} ${period}s from ${first} to ${last}`;
  const total = bars.reduce((sum, b) => sum + b.value, 0);
  if (total === 0) return `${title}, ${span}: ${format(0)} ${unit} in all.`;
  const top = bars.reduce((best, b) => (b.value > best.value ? b : best));
  const empty = bars.filter((b) => b.value === 0).length;
  const none = empty === 0 ? "" : `; none in ${empty} of them`;
  return `${title}, ${span}: ${format(total)} ${unit} in all, most in ${top.label} with ${format(top.value)} ${unit}${none}.`;
}
