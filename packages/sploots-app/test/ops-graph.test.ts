import { describe, expect, it } from 'vitest';
import { describeSeries, formatValue, niceCeil, plot } from '../src/ops/graph.ts';

const box = { width: 220, height: 120, pad: 10 }; // inner 200 × 100

describe('ops graph math', () => {
  it('niceCeil picks 1, 2, 2.5, 5 × 10^n at or above the value', () => {
    expect(niceCeil(0)).toBe(1);
    expect(niceCeil(-3)).toBe(1);
    expect(niceCeil(Number.NaN)).toBe(1);
    expect(niceCeil(1)).toBe(1);
    expect(niceCeil(1.2)).toBe(2);
    expect(niceCeil(2.1)).toBe(2.5);
    expect(niceCeil(3)).toBe(5);
    expect(niceCeil(7)).toBe(10);
    expect(niceCeil(0.03)).toBeCloseTo(0.05);
    expect(niceCeil(1234)).toBe(2000);
  });

  it('maps time to x and value to y (0 at the bottom, yMax at the top)', () => {
    const p = plot([{ label: 'in', points: [{ t: 0, v: 0 }, { t: 50, v: 5 }, { t: 100, v: 10 }] }], box);
    expect(p.yMax).toBe(10);
    expect(p.paths[0]).toBe('M10,110 L110,60 L210,10');
    expect(p.ticks).toEqual([0, 2.5, 5, 7.5, 10]);
    expect(p.y(10)).toBe(10);
    expect(p.y(0)).toBe(110);
    expect([p.tMin, p.tMax]).toEqual([0, 100]);
  });

  it('breaks the line at nulls and draws a lone point as a dot; sorts by time', () => {
    const p = plot([{ label: 'p99', points: [{ t: 100, v: 4 }, { t: 0, v: 2 }, { t: 25, v: null }, { t: 50, v: 4 }, { t: 75, v: null }] }], box);
    // yMax 5: 2 → y=70, 4 → y=30
    expect(p.paths[0]).toBe('M10,70 L10,70 M110,30 L110,30 M210,30 L210,30');
  });

  it('shares one y scale across series; clamps nothing below 0 into view', () => {
    const p = plot(
      [
        { label: 'a', points: [{ t: 0, v: 1 }, { t: 10, v: 2 }] },
        { label: 'b', points: [{ t: 0, v: 20 }, { t: 10, v: -5 }] },
      ],
      box,
    );
    expect(p.yMax).toBe(20);
    expect(p.paths[0]).toBe('M10,105 L210,100');
    expect(p.paths[1]).toBe('M10,10 L210,110');
  });

  it('no data: empty paths and a unit scale; one point sits at the right edge', () => {
    expect(plot([{ label: 'x', points: [] }], box).paths).toEqual(['']);
    expect(plot([{ label: 'x', points: [{ t: 0, v: null }] }], box).paths).toEqual(['']);
    expect(plot([{ label: 'x', points: [{ t: 5, v: 1 }] }], box).paths[0]).toBe('M210,10 L210,10');
  });

  it('describes the graph in words for screen readers', () => {
    const s = describeSeries('Frames per second', 'frames/s', [
      { label: 'broker-1', points: [{ t: 0, v: 10 }, { t: 300_000, v: 1500 }, { t: 600_000, v: 12.345 }] },
      { label: 'web-1', points: [{ t: 0, v: null }] },
    ]);
    expect(s).toBe('Frames per second over the last 10 min. broker-1: now 12.3 frames/s, max 1.5k frames/s; web-1: no data.');
    expect(formatValue(2_500_000)).toBe('2.5M');
    expect(formatValue(0.000123456)).toBe('0.000123');
  });
});
