/**
 * A small SVG line graph: role="img" with a one-sentence aria-label, and the numbers as a table
 * for whoever wants them exactly (screen readers reach it too; sighted users open it).
 */
import { useId } from 'react';
import { describeSeries, formatValue, plot, type Series } from './graph.ts';

const BOX = { width: 480, height: 140, pad: 8 };
const COLOURS = ['var(--accent)', 'var(--warn)', '#8ab4f8', '#f28b82', '#c58af9', 'var(--ok)'];

export function LineGraph({ title, unit, series }: { title: string; unit: string; series: Series[] }) {
  const id = useId();
  const p = plot(series, BOX);
  const times = [...new Set(series.flatMap((s) => s.points.map((pt) => pt.t)))].sort((a, b) => a - b);
  return (
    <figure className="ops-graph" aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`}>
        {title} <span className="ops-muted">({unit}, top {formatValue(p.yMax)})</span>
      </figcaption>
      <svg viewBox={`0 0 ${BOX.width} ${BOX.height}`} role="img" aria-label={describeSeries(title, unit, series)} preserveAspectRatio="none">
        {p.ticks.map((v) => (
          <line key={v} x1={BOX.pad} x2={BOX.width - BOX.pad} y1={p.y(v)} y2={p.y(v)} className="ops-grid" />
        ))}
        {p.paths.map((d, i) =>
          d ? <path key={series[i]!.label} d={d} fill="none" stroke={COLOURS[i % COLOURS.length]} strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" vectorEffect="non-scaling-stroke" /> : null,
        )}
      </svg>
      <ul className="ops-legend" aria-hidden="true">
        {series.map((s, i) => (
          <li key={s.label}>
            <span className="ops-swatch" style={{ background: COLOURS[i % COLOURS.length] }} /> {s.label}
          </li>
        ))}
      </ul>
      <details>
        <summary>Table</summary>
        <table className="ops-table">
          <caption className="ops-sr-only">{title}</caption>
          <thead>
            <tr>
              <th scope="col">time</th>
              {series.map((s) => (
                <th key={s.label} scope="col">
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {times.map((t) => (
              <tr key={t}>
                <th scope="row">{new Date(t).toLocaleTimeString()}</th>
                {series.map((s) => {
                  const v = s.points.find((pt) => pt.t === t)?.v;
                  return <td key={s.label}>{v === null || v === undefined ? '–' : formatValue(v)}</td>;
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
