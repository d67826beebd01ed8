/** The chaos report as a table for people (and the JSON is the report object itself). */
import { STREAMS, type Stream } from './ledger.ts';
import type { ChaosReport, Finding } from './run.ts';

const LABEL: Record<Stream, string> = {
  c2a: 'client → agent',
  reply: 'agent → client (replies)',
  push: 'agent → client (own)',
};

const secs = (ms: number | undefined) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);

export function describeFinding(f: Finding): string {
  const where = `client ${f.client} (${f.clientId.slice(0, 8)}) ${LABEL[f.stream]} n=${f.n}`;
  const sent = f.sentAtMs !== undefined ? ` sent at +${secs(f.sentAtMs)}` : '';
  const before = f.killBefore ? `; kill before: ${f.killBefore.target} ${f.killBefore.signal} at +${secs(f.killBefore.at)}` : '; no kill before';
  const after = f.killAfter ? `; kill after: ${f.killAfter.target} ${f.killAfter.signal} at +${secs(f.killAfter.at)}` : '';
  return `${f.kind.toUpperCase()} ${where}${sent}${f.detail ? ` (${f.detail})` : ''}${before}${after}`;
}

export function formatReport(r: ChaosReport, maxFindings = 50): string {
  const lines: string[] = [];
  const kinds = Object.entries(r.killsByKind).map(([k, n]) => `${k} ${n}`).join(', ');
  lines.push(`chaos ${r.mode} · seed ${r.seed} · ${r.clients} clients · traffic ${secs(r.durationMs)} + drain ${secs(r.drainMs)} · kills ${r.kills.length} (${kinds})`);
  const head = ['direction', 'sent', 'delivered', 'duplicates', 'lost', 'reordered', 'refused', 'redelivered'];
  const rows = STREAMS.map((s) => {
    const t = r.verdict.totals[s];
    return [LABEL[s], t.sent, t.delivered, t.duplicates, t.lost, t.reordered, t.refused, s === 'c2a' ? t.redelivered : '-'].map(String);
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  lines.push(fmt(head), ...rows.map(fmt));
  const refused: Record<string, number> = {};
  for (const s of STREAMS) for (const [code, n] of Object.entries(r.verdict.totals[s].refusedByCode)) refused[`${s}:${code}`] = n;
  lines.push(`refused by code: ${Object.keys(refused).length ? JSON.stringify(refused) : 'none'}`);
  const extra = STREAMS.reduce((n, s) => n + r.verdict.totals[s].refusedButDelivered + r.verdict.totals[s].unexpected, 0);
  if (extra) lines.push(`refused but delivered, or delivered but never sent: ${extra}`);
  if (r.misrouted) lines.push(`misrouted (arrived at the wrong client): ${r.misrouted}`);
  if (Object.keys(r.gaps).length) lines.push(`client gap events: ${JSON.stringify(r.gaps)}`);
  if (Object.keys(r.clientErrors).length) lines.push(`client errors naming no message: ${JSON.stringify(r.clientErrors)}`);
  for (const p of r.problems.slice(0, 20)) lines.push(`problem: ${p}`);
  for (const f of r.findings.slice(0, maxFindings)) lines.push(describeFinding(f));
  if (r.findings.length > maxFindings) lines.push(`… and ${r.findings.length - maxFindings} more findings (--json has them all)`);
  lines.push(r.ok ? 'OK: every message exactly once and in order, or refused with a code' : 'FAIL');
  return lines.join('\n');
}
