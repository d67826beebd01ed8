/**
 * Output: one JSON line per target × scenario (stdout and bench-results/*.jsonl) and a markdown
 * table with the ratios Agent Bridge ÷ raw relay and ÷ Socket.IO, checked against the targets.
 */
import type { MachineInfo } from './machine.ts';
import type { ScenarioResult } from './scenarios/types.ts';
import type { TargetName } from './targets/index.ts';

export interface ResultLine extends ScenarioResult {
  ts: string;
  mode: string;
  target: TargetName;
  topology: string;
  machine: MachineInfo;
}

type Dir = 'higher' | 'lower';
interface Row {
  scenario: string;
  label: string;
  get: (r: ResultLine) => number | null | undefined;
  dir: Dir;
  fmt: (n: number) => string;
  /** Pass/fail against a published target, given the three values. */
  target?: (ab: number | null, raw: number | null, sio: number | null) => string;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const ms = (n: number) => (n / 1000).toFixed(n < 10_000 ? 2 : 1);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const kb = (n: number) => (n / 1024).toFixed(1);
const mark = (ok: boolean) => (ok ? '✅' : '❌');

const ROWS: Row[] = [
  {
    scenario: 'echo',
    label: 'round trips/s',
    get: (r) => num(r.metrics.roundTripsPerSec),
    dir: 'higher',
    fmt: int,
    target: (ab, raw, sio) => (ab === null || raw === null || sio === null ? '' : `≥ 1.0× both: ${mark(ab >= raw && ab >= sio)}`),
  },
  { scenario: 'echo', label: 'p50 ms', get: (r) => num(r.metrics.p50Us), dir: 'lower', fmt: ms },
  {
    scenario: 'echo',
    label: 'p99 ms',
    get: (r) => num(r.metrics.p99Us),
    dir: 'lower',
    fmt: ms,
    target: (ab, raw) => (ab === null || raw === null ? '' : `≤ 1.2× raw: ${mark(ab <= 1.2 * raw)}`),
  },
  { scenario: 'echo', label: 'max ms', get: (r) => num(r.metrics.maxUs), dir: 'lower', fmt: ms },
  { scenario: 'echo', label: 'server CPU µs / round trip', get: (r) => num(r.metrics.serverCpuUsPerRoundTrip), dir: 'lower', fmt: (n) => n.toFixed(1) },
  { scenario: 'echo', label: 'all-process CPU µs / round trip', get: (r) => num(r.metrics.allCpuUsPerRoundTrip), dir: 'lower', fmt: (n) => n.toFixed(1) },
  { scenario: 'echo', label: 'lost', get: (r) => num(r.metrics.lost), dir: 'lower', fmt: int },
  { scenario: 'latency', label: 'p50 ms (1 client, 1 in flight)', get: (r) => num(r.metrics.p50Us), dir: 'lower', fmt: ms },
  { scenario: 'latency', label: 'p99 ms', get: (r) => num(r.metrics.p99Us), dir: 'lower', fmt: ms },
  {
    scenario: 'fanout',
    label: 'deliveries/s at saturation',
    get: (r) => num(r.metrics.deliveriesPerSecAtSaturation),
    dir: 'higher',
    fmt: int,
    target: (ab, _raw, sio) => (ab === null || sio === null ? '' : `≥ Socket.IO: ${mark(ab >= sio)}`),
  },
  { scenario: 'fanout', label: 'p99 delivery ms (at that rate)', get: (r) => num(r.metrics.p99Us), dir: 'lower', fmt: ms },
  { scenario: 'fanout', label: 'messages lost', get: (r) => num(r.metrics.lost), dir: 'lower', fmt: int },
  {
    scenario: 'idle',
    label: 'server RSS KB / client',
    get: (r) => num(r.metrics.serverRssBytesPerClient),
    dir: 'lower',
    fmt: kb,
    target: (ab) => (ab === null ? '' : `≤ 15 KB: ${mark(ab <= 15 * 1024)}`),
  },
  { scenario: 'idle', label: 'server heap KB / client', get: (r) => num(r.metrics.serverHeapBytesPerClient), dir: 'lower', fmt: kb },
  { scenario: 'idle', label: 'server CPU µs / client / s, idle', get: (r) => num(r.metrics.serverIdleCpuUsPerClientPerSec), dir: 'lower', fmt: (n) => n.toFixed(2) },
  { scenario: 'idle', label: 'server CPU µs / connect', get: (r) => num(r.metrics.connectCpuUsPerClient), dir: 'lower', fmt: int },
  { scenario: 'idle', label: 'time to connect all, s', get: (r) => num(r.metrics.connectAllMs), dir: 'lower', fmt: (n) => (n / 1000).toFixed(2) },
  {
    scenario: 'storm',
    label: 'all clients back, s',
    get: (r) => num(r.metrics.allReconnectedMs),
    dir: 'lower',
    fmt: (n) => (n / 1000).toFixed(2),
  },
  {
    scenario: 'storm',
    label: 'all resumed, s',
    get: (r) => num(r.metrics.allResumedMs),
    dir: 'lower',
    fmt: (n) => (n / 1000).toFixed(2),
    target: (ab) => `< 10 s: ${mark(ab !== null && ab < 10_000)}`,
  },
  {
    scenario: 'storm',
    label: 'probes lost',
    get: (r) => num(r.metrics.lost),
    dir: 'lower',
    fmt: int,
    target: (ab) => (ab === null ? '' : `0 lost: ${mark(ab === 0)}`),
  },
];

/** Markdown table over all results of one run. */
export function markdownTable(lines: ResultLine[]): string {
  const by = (t: TargetName, s: string) => lines.find((l) => l.target === t && l.scenario === s);
  const out = [
    '| scenario | metric | agent-bridge | raw relay | Socket.IO | AB ÷ raw | AB ÷ Socket.IO | target |',
    '|---|---|--:|--:|--:|--:|--:|---|',
  ];
  const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? '–' : `${(a / b).toFixed(2)}×`);
  for (const row of ROWS) {
    const vals = (['agent-bridge', 'raw-relay', 'socket.io'] as TargetName[]).map((t) => {
      const l = by(t, row.scenario);
      return l ? (row.get(l) ?? null) : undefined;
    });
    if (vals.every((v) => v === undefined)) continue;
    const [ab, raw, sio] = vals.map((v) => v ?? null) as [number | null, number | null, number | null];
    const cell = (v: number | null | undefined) => (v === undefined ? '' : v === null ? 'n/a' : row.fmt(v));
    out.push(
      `| ${row.scenario} | ${row.label} | ${vals.map(cell).join(' | ')} | ${ratio(ab, raw)} | ${ratio(ab, sio)} | ${row.target && vals[0] !== undefined ? row.target(ab, raw, sio) : ''} |`,
    );
  }
  const first = lines[0];
  const last = lines.at(-1);
  if (first && last) {
    const m = first.machine;
    out.push('');
    out.push(
      `${first.mode} run, ${m.cores} cores (${m.cpu}), node ${m.node}, ${m.platform}; loadavg ${m.loadavg.join(' ')} at the first result, ${last.machine.loadavg.join(' ')} at the last.`,
    );
    out.push('Socket.IO clients connect to the server directly: one hop and one process fewer than agent-bridge and raw-relay.');
  }
  const storm = lines.filter((l) => l.scenario === 'storm');
  if (storm.length) {
    out.push('');
    for (const l of storm) {
      out.push(
        `storm ${l.target}: ${l.metrics.reconnected}/${l.metrics.clients} back, ${l.metrics.resumed} resumed (resumed:true), broker down ${l.metrics.brokerDownMs} ms`,
      );
    }
  }
  return out.join('\n');
}

/** Per-process detail: CPU per operation and peak RSS (echo, fan-out), memory per client (idle). */
export function processTable(lines: ResultLine[]): string {
  const out = [
    '| target | scenario | process | CPU µs / op | peak RSS MB | RSS KB / client | heap KB / client | idle CPU µs / client / s |',
    '|---|---|---|--:|--:|--:|--:|--:|',
  ];
  const f = (v: number | undefined, d: number, scale = 1) => (v === undefined ? '' : (v / scale).toFixed(d));
  for (const l of lines) {
    if (!['echo', 'fanout', 'idle', 'latency'].includes(l.scenario)) continue;
    for (const [name, p] of Object.entries(l.processes)) {
      out.push(
        `| ${l.target} | ${l.scenario} | ${name} | ${f(p.cpuUsPerOp, 1)} | ${f(p.peakRssBytes, 0, 2 ** 20)} | ${f(p.rssBytesPerClient, 1, 1024)} | ${f(p.heapBytesPerClient, 1, 1024)} | ${f(p.idleCpuUsPerClientPerSec, 2)} |`,
      );
    }
  }
  return out.join('\n');
}
