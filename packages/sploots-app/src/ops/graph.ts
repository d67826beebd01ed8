/**
 * Data → SVG path math for the ops view's small line graphs. Pure (no DOM), so it is unit-tested
 * without a browser; the component only places the strings it returns.
 */

export interface Point {
  /** Unix time, ms. */
  t: number;
  /** null = no value for this sample (a gap in the line, not a drop to zero). */
  v: number | null;
}

export interface Box {
  width: number;
  height: number;
  /** Inner padding, px, so strokes at the edges are not clipped. */
  pad: number;
}

export interface Series {
  label: string;
  points: readonly Point[];
}

export interface Plot {
  /** One `d` attribute per series, in the same order. Empty string: nothing to draw. */
  paths: string[];
  /** The y value at the top of the plot (a "nice" number ≥ every value). */
  yMax: number;
  /** The time span drawn, ms. */
  tMin: number;
  tMax: number;
  /** Gridline values, 0 to yMax. */
  ticks: number[];
  /** Where a y value lands, px (for gridlines and labels). */
  y(v: number): number;
}

/** The smallest of 1, 2, 2.5, 5 × 10^n that is ≥ v (0 and below: 1), so gridlines read well. */
export function niceCeil(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= v * (1 - 1e-12)) return m * exp;
  return 10 * exp;
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * Lay out several series on one time axis and one y axis starting at 0. Time runs left to right
 * over the span of all points; a single point is drawn at the right edge (the latest); nulls break
 * the line (a new `M`), and a point alone between gaps becomes a zero-length segment so a round
 * line cap still shows it.
 */
export function plot(series: readonly Series[], box: Box, opts: { ticks?: number } = {}): Plot {
  const all = series.flatMap((s) => s.points);
  const values = all.map((p) => p.v).filter((v): v is number => v !== null && Number.isFinite(v));
  const yMax = niceCeil(Math.max(0, ...values));
  const tMin = all.length ? Math.min(...all.map((p) => p.t)) : 0;
  const tMax = all.length ? Math.max(...all.map((p) => p.t)) : 0;
  const innerW = Math.max(0, box.width - 2 * box.pad);
  const innerH = Math.max(0, box.height - 2 * box.pad);
  const x = (t: number) => (tMax === tMin ? box.pad + innerW : box.pad + ((t - tMin) / (tMax - tMin)) * innerW);
  const y = (v: number) => box.pad + innerH - (Math.min(Math.max(v, 0), yMax) / yMax) * innerH;

  const paths = series.map((s) => {
    let d = '';
    let open = false;
    let lastStart = '';
    let segLen = 0;
    const closeSeg = () => {
      if (open && segLen === 1) d += ` L${lastStart}`; // lone point: a dot
      open = false;
    };
    for (const p of [...s.points].sort((a, b) => a.t - b.t)) {
      if (p.v === null || !Number.isFinite(p.v)) {
        closeSeg();
        continue;
      }
      const at = `${round(x(p.t))},${round(y(p.v))}`;
      if (open) {
        d += ` L${at}`;
        segLen++;
      } else {
        d += `${d ? ' ' : ''}M${at}`;
        lastStart = at;
        open = true;
        segLen = 1;
      }
    }
    closeSeg();
    return d;
  });

  const n = opts.ticks ?? 4;
  const ticks = Array.from({ length: n + 1 }, (_, i) => (yMax * i) / n);
  return { paths, yMax, tMin, tMax, ticks, y };
}

/** A one-sentence summary for aria-label: what a sighted reader takes from the graph at a glance. */
export function describeSeries(title: string, unit: string, series: readonly Series[]): string {
  const parts = series.map((s) => {
    const vals = s.points.map((p) => p.v).filter((v): v is number => v !== null);
    if (!vals.length) return `${s.label}: no data`;
    const last = vals.at(-1)!;
    return `${s.label}: now ${formatValue(last)} ${unit}, max ${formatValue(Math.max(...vals))} ${unit}`;
  });
  const minutes = minutesSpanned(series);
  return `${title}${minutes ? ` over the last ${minutes} min` : ''}. ${parts.join('; ')}.`;
}

function minutesSpanned(series: readonly Series[]): number {
  const ts = series.flatMap((s) => s.points.map((p) => p.t));
  return ts.length > 1 ? Math.round((Math.max(...ts) - Math.min(...ts)) / 60_000) : 0;
}

/** Short numbers for labels: 3 significant digits, k/M above a thousand. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (abs >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  if (abs === 0) return '0';
  return `${+v.toPrecision(3)}`;
}
