/**
 * A horizontal bar chart as a standalone SVG string: one bar per variant, the
 * value printed at the end of each bar, an optional dashed target line, and
 * optional stacked segments (with a legend) to show where a bar's time goes.
 * Hand-written so the benchmarks carry no charting dependency.
 */

export interface Bar {
  label: string;
  value: number;
  /** Shown after the bar instead of the plain value (e.g. "4.8 ms · 22× faster"). */
  note?: string;
  /** Stacked parts of `value`, drawn left to right in legend order. */
  segments?: Array<{ name: string; value: number }>;
  /** Draw in the highlight colour (the subject of the benchmark). */
  highlight?: boolean;
  /** A fill of its own (e.g. green for a target met, red for one missed); wins over `highlight`. */
  colour?: string;
}

export interface ChartOptions {
  title: string;
  subtitle?: string;
  unit: string;
  bars: Bar[];
  /** Vertical dashed lines, e.g. targets. */
  targets?: Array<{ value: number; label: string }>;
  /** Logarithmic axis, for values that span orders of magnitude. */
  log?: boolean;
}

const SEGMENT_COLOURS = ["#1f6feb", "#8957e5", "#d29922", "#2da44e", "#cf222e"];
const BAR = "#8c959f";
const HIGHLIGHT = "#1f6feb";

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function niceMax(x: number): number {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function tickLabel(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  if (v >= 1) return `${+v.toFixed(2)}`;
  return `${+v.toPrecision(2)}`;
}

export function barChart(o: ChartOptions): string {
  const labelW = Math.min(360, Math.max(140, ...o.bars.map((b) => b.label.length * 7 + 16)));
  const noteW = Math.max(120, ...o.bars.map((b) => (b.note ?? "").length * 6.6 + 16));
  const plotW = 440;
  const width = labelW + plotW + noteW + 20;
  const legendNames = [...new Set(o.bars.flatMap((b) => (b.segments ?? []).map((s) => s.name)))];
  const top = 58 + (legendNames.length > 0 ? 22 : 0) + ((o.targets?.length ?? 0) > 1 ? 12 : 0);
  const rowH = 30;
  const height = top + o.bars.length * rowH + 44;
  const targets = o.targets ?? [];
  const values = o.bars.map((b) => b.value).concat(targets.map((t) => t.value));
  const maxV = niceMax(Math.max(...values) * 1.02);
  const minPos = Math.min(...values.filter((v) => v > 0));
  // Start the log axis at least ~half a decade below the smallest bar, so it stays visible.
  const logMin = 10 ** Math.floor(Math.log10(minPos > 0 ? minPos : 1) - 0.5);
  const logMax = 10 ** Math.ceil(Math.log10(maxV));
  const x = (v: number): number => {
    if (!o.log) return labelW + (Math.max(0, v) / maxV) * plotW;
    const c = Math.max(v, logMin);
    return labelW + ((Math.log10(c) - Math.log10(logMin)) / (Math.log10(logMax) - Math.log10(logMin))) * plotW;
  };
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="12" y="22" font-size="15" font-weight="600" fill="#1f2328">${esc(o.title)}</text>`);
  if (o.subtitle) out.push(`<text x="12" y="40" fill="#57606a">${esc(o.subtitle)}</text>`);
  if (legendNames.length > 0) {
    let lx = labelW;
    legendNames.forEach((name, i) => {
      out.push(`<rect x="${lx}" y="${top - 26}" width="10" height="10" fill="${SEGMENT_COLOURS[i % SEGMENT_COLOURS.length]}"/>`);
      out.push(`<text x="${lx + 14}" y="${top - 17}" fill="#1f2328">${esc(name)}</text>`);
      lx += name.length * 6.6 + 34;
    });
  }
  // Axis ticks and grid.
  const ticks: number[] = [];
  if (o.log) for (let v = logMin; v <= logMax * 1.0001; v *= 10) ticks.push(v);
  else for (let i = 0; i <= 5; i++) ticks.push((maxV * i) / 5);
  const axisY = top + o.bars.length * rowH + 4;
  for (const t of ticks) {
    const tx = x(t).toFixed(1);
    out.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${axisY}" stroke="#eaeef2"/>`);
    out.push(`<text x="${tx}" y="${axisY + 16}" text-anchor="middle" fill="#57606a">${tickLabel(t)}</text>`);
  }
  out.push(`<text x="${labelW + plotW / 2}" y="${axisY + 34}" text-anchor="middle" fill="#57606a">${esc(o.unit)}${o.log ? " (log scale)" : ""}</text>`);
  targets.forEach((t, i) => {
    const tx = x(t.value).toFixed(1);
    out.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${axisY}" stroke="#cf222e" stroke-width="1.5" stroke-dasharray="5 4"/>`);
    // Labels alternate between two rows above the plot so close targets stay readable.
    const ly = i % 2 === 0 ? top - 8 : top - 20;
    out.push(`<text x="${tx}" y="${ly}" text-anchor="middle" fill="#cf222e" font-size="11">${esc(t.label)}</text>`);
  });
  o.bars.forEach((b, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${labelW - 8}" y="${y + 18}" text-anchor="end" fill="#1f2328"${b.highlight ? ' font-weight="600"' : ""}>${esc(b.label)}</text>`);
    if (b.segments && b.segments.length > 0 && !o.log) {
      let acc = 0;
      for (const s of b.segments) {
        const ci = legendNames.indexOf(s.name);
        const x0 = x(acc);
        const x1 = x(acc + Math.max(0, s.value));
        out.push(`<rect x="${x0.toFixed(1)}" y="${y + 5}" width="${Math.max(0, x1 - x0).toFixed(1)}" height="${rowH - 10}" fill="${SEGMENT_COLOURS[ci % SEGMENT_COLOURS.length]}"><title>${esc(`${s.name}: ${tickLabel(s.value)} ${o.unit}`)}</title></rect>`);
        acc += Math.max(0, s.value);
      }
    } else {
      const w = Math.max(1, x(b.value) - labelW);
      out.push(`<rect x="${labelW}" y="${y + 5}" width="${w.toFixed(1)}" height="${rowH - 10}" fill="${b.colour ?? (b.highlight ? HIGHLIGHT : BAR)}"><title>${esc(`${b.label}: ${b.value} ${o.unit}`)}</title></rect>`);
    }
    // A white halo keeps the value readable where it crosses a target line.
    out.push(`<text x="${(x(b.value) + 6).toFixed(1)}" y="${y + 18}" fill="#1f2328" stroke="#ffffff" stroke-width="4" paint-order="stroke">${esc(b.note ?? tickLabel(b.value))}</text>`);
  });
  out.push(`</svg>\n`);
  return out.join("\n");
}
