/**
 * Figures of a repeated run (`--repeat N`): a target's rounds, their medians, and the paired
 * ratio of two targets (round r of one with round r of the other: rounds run A B, B A, …, so
 * drift in the machine's load falls on both sides). The cost tables judge the median of the
 * per-round ratios, never one round's.
 */
import type { ResultLine } from './report.ts';
import type { TargetName } from './targets/index.ts';

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function roundsOf(lines: ResultLine[], target: TargetName, scenario: string): ResultLine[] {
  return lines.filter((l) => l.target === target && l.scenario === scenario).sort((a, b) => (a.round ?? 1) - (b.round ?? 1));
}

/** The target's result for the scenario; with `--repeat`, every numeric metric the median of its rounds. */
export function medianResult(lines: ResultLine[], target: TargetName, scenario: string): ResultLine | undefined {
  const rounds = roundsOf(lines, target, scenario);
  if (rounds.length <= 1) return rounds[0];
  const metrics = { ...rounds[0]!.metrics };
  for (const k of Object.keys(metrics)) {
    const vs = rounds.map((r) => num(r.metrics[k])).filter((v): v is number => v !== null);
    if (vs.length === rounds.length) metrics[k] = median(vs);
  }
  return { ...rounds[0]!, metrics };
}

/** `b ÷ a` of one metric, round by round: the median and each round's, or null when a side is missing. */
export function pairedRatio(lines: ResultLine[], a: TargetName, b: TargetName, scenario: string, key: string): { median: number; rounds: number[] } | null {
  const as = roundsOf(lines, a, scenario);
  const bs = roundsOf(lines, b, scenario);
  const ratios: number[] = [];
  for (const ra of as) {
    const rb = bs.find((l) => (l.round ?? 1) === (ra.round ?? 1));
    const va = num(ra.metrics[key]);
    const vb = rb ? num(rb.metrics[key]) : null;
    if (va && vb !== null) ratios.push(vb / va);
  }
  return ratios.length ? { median: median(ratios), rounds: ratios } : null;
}

/** ` (median of N rounds: 0.61, 0.58 …)` for a repeated run, else nothing. */
export const perRound = (r: { rounds: number[] } | null): string =>
  r && r.rounds.length > 1 ? ` (median of ${r.rounds.length} rounds: ${r.rounds.map((x) => x.toFixed(2)).join(', ')})` : '';
