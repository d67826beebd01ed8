/**
 * Output: one JSON line per target × scenario (stdout and bench-results/*.jsonl) and a markdown
 * table with the ratios Agent Bridge ÷ raw relay and ÷ Socket.IO, checked against the targets.
 */
import type { MachineInfo } from './machine.ts';
import { clusterReport } from './report-cluster.ts';
import { median, medianResult, pairedRatio, perRound } from './rounds.ts';
import type { ScenarioResult } from './scenarios/types.ts';
import type { TargetName } from './targets/index.ts';

export interface ResultLine extends ScenarioResult {
  ts: string;
  mode: string;
  target: TargetName;
  topology: string;
  /** With `--repeat` N > 1: which round (1…N) this line is. */
  round?: number;
  /** `--parallel`: ran at the same time as the run's other targets. */
  parallel?: boolean;
  machine: MachineInfo;
}

type Dir = 'higher' | 'lower';

/** A published performance target, checked on one row. */
interface Target {
  label: string;
  /** met / missed; null when a value it needs is missing. */
  check: (ab: number | null, raw: number | null, sio: number | null) => boolean | null;
  /**
   * Defined at the full run's sizes (10,000 idle clients, 5,000 in the storm, a fan-out ramp to
   * saturation): a quick run cannot tell, so it says so instead of passing or failing it.
   */
  fullRunOnly?: boolean;
}

interface Row {
  scenario: string;
  label: string;
  get: (r: ResultLine) => number | null | undefined;
  dir: Dir;
  fmt: (n: number) => string;
  target?: Target;
}

export type Verdict = 'met' | 'missed' | 'not measured';

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
    target: { label: '≥ 1.0× both', check: (ab, raw, sio) => (ab === null || raw === null || sio === null ? null : ab >= raw && ab >= sio) },
  },
  { scenario: 'echo', label: 'p50 ms', get: (r) => num(r.metrics.p50Us), dir: 'lower', fmt: ms },
  {
    scenario: 'echo',
    label: 'p99 ms',
    get: (r) => num(r.metrics.p99Us),
    dir: 'lower',
    fmt: ms,
    target: { label: '≤ 1.2× raw', check: (ab, raw) => (ab === null || raw === null ? null : ab <= 1.2 * raw) },
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
    target: { label: '≥ Socket.IO', check: (ab, _raw, sio) => (ab === null || sio === null ? null : ab >= sio), fullRunOnly: true },
  },
  { scenario: 'fanout', label: 'p99 delivery ms (at that rate)', get: (r) => num(r.metrics.p99Us), dir: 'lower', fmt: ms },
  { scenario: 'fanout', label: 'messages lost', get: (r) => num(r.metrics.lost), dir: 'lower', fmt: int },
  {
    scenario: 'idle',
    label: 'server RSS KB / client',
    get: (r) => num(r.metrics.serverRssBytesPerClient),
    dir: 'lower',
    fmt: kb,
    target: { label: '≤ 15 KB', check: (ab) => (ab === null ? null : ab <= 15 * 1024), fullRunOnly: true },
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
    target: { label: '< 10 s', check: (ab) => ab !== null && ab < 10_000, fullRunOnly: true },
  },
  {
    scenario: 'storm',
    label: 'probes lost',
    get: (r) => num(r.metrics.lost),
    dir: 'lower',
    fmt: int,
    target: { label: '0 lost', check: (ab) => (ab === null ? null : ab === 0) },
  },
  ...streamRows(),
];

/**
 * The stream scenario (issue 14). The latency targets are defined at 100 concurrent 1,000-token
 * replies: a quick run says "not measured". Batching and the reconnect are measured at any size.
 */
function streamRows(): Row[] {
  const plus = (maxUs: number) => (ab: number | null, raw: number | null) => (ab === null || raw === null ? null : ab - raw <= maxUs);
  return [
    {
      scenario: 'stream',
      label: 'time to first token p50 ms',
      get: (r) => num(r.metrics.ttftP50Us),
      dir: 'lower',
      fmt: ms,
      target: { label: '≤ raw + 2 ms', check: plus(2000), fullRunOnly: true },
    },
    { scenario: 'stream', label: 'time to first token p99 ms', get: (r) => num(r.metrics.ttftP99Us), dir: 'lower', fmt: ms },
    { scenario: 'stream', label: 'token delay p50 ms (agent emit → client)', get: (r) => num(r.metrics.tokenDelayP50Us), dir: 'lower', fmt: ms },
    {
      scenario: 'stream',
      label: 'token delay p99 ms (inter-token latency)',
      get: (r) => num(r.metrics.tokenDelayP99Us),
      dir: 'lower',
      fmt: ms,
      target: { label: '≤ raw + 10 ms', check: plus(10_000), fullRunOnly: true },
    },
    {
      scenario: 'stream',
      label: 'token delay p99 ms, SDK batching off (comparators: as above)',
      get: (r) => num(r.metrics.unbatchedTokenDelayP99Us),
      dir: 'lower',
      fmt: ms,
    },
    { scenario: 'stream', label: 'client gap between tokens p99 ms', get: (r) => num(r.metrics.gapP99Us), dir: 'lower', fmt: ms },
    {
      scenario: 'stream',
      label: 'text frames / stream / 20 ms (worst stream)',
      get: (r) => num(r.metrics.textFramesPerStreamPer20Ms),
      dir: 'lower',
      fmt: (n) => n.toFixed(2),
      target: { label: '≤ 1', check: (ab) => (ab === null ? null : ab <= 1) },
    },
    { scenario: 'stream', label: 'frames / token (to the client)', get: (r) => num(r.metrics.framesPerToken), dir: 'lower', fmt: (n) => n.toFixed(2) },
    { scenario: 'stream', label: 'bytes / token (to the client)', get: (r) => num(r.metrics.bytesPerToken), dir: 'lower', fmt: (n) => n.toFixed(0) },
    {
      scenario: 'stream',
      label: 'reconnect: missed text after welcome, max ms',
      get: (r) => num(r.metrics.reconnectMissedTextMaxUs),
      dir: 'lower',
      fmt: ms,
      // Null means a reconnecting client did not resume or never got its missed text: missed.
      target: { label: '≤ 50 ms, resumed', check: (ab) => ab !== null && ab <= 50_000 },
    },
  ];
}

const by = (lines: ResultLine[], t: TargetName, s: string) => lines.find((l) => l.target === t && l.scenario === s);
const modeFlag = (mode: string) => (mode === 'quick' ? '--quick' : `${mode} mode`);

function rowValues(lines: ResultLine[], row: Row): (number | null | undefined)[] {
  return (['agent-bridge', 'raw-relay', 'socket.io'] as TargetName[]).map((t) => {
    const l = by(lines, t, row.scenario);
    return l ? (row.get(l) ?? null) : undefined;
  });
}

/** Where a run stands against each target it touched. */
export function verdicts(lines: ResultLine[]): { row: Row; verdict: Verdict }[] {
  const mode = lines[0]?.mode ?? 'full';
  const out: { row: Row; verdict: Verdict }[] = [];
  for (const row of ROWS) {
    if (!row.target) continue;
    const vals = rowValues(lines, row);
    if (vals[0] === undefined) continue;
    const [ab, raw, sio] = vals.map((v) => v ?? null) as [number | null, number | null, number | null];
    const ok = mode !== 'full' && row.target.fullRunOnly ? null : row.target.check(ab, raw, sio);
    out.push({ row, verdict: ok === null ? 'not measured' : ok ? 'met' : 'missed' });
  }
  return out;
}

/** Markdown table over all results of one run. */
export function markdownTable(lines: ResultLine[]): string {
  const mode = lines[0]?.mode ?? 'full';
  const verdictOf = new Map(verdicts(lines).map((v) => [v.row, v.verdict]));
  const out = [
    '| scenario | metric | agent-bridge | raw relay | Socket.IO | AB ÷ raw | AB ÷ Socket.IO | target |',
    '|---|---|--:|--:|--:|--:|--:|---|',
  ];
  const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? '–' : `${(a / b).toFixed(2)}×`);
  for (const row of ROWS) {
    const vals = rowValues(lines, row);
    if (vals.every((v) => v === undefined)) continue;
    const [ab, raw, sio] = vals.map((v) => v ?? null) as [number | null, number | null, number | null];
    const cell = (v: number | null | undefined) => (v === undefined ? '' : v === null ? 'n/a' : row.fmt(v));
    const verdict = verdictOf.get(row);
    const target =
      !row.target || !verdict
        ? ''
        : verdict === 'not measured'
          ? `${row.target.label}: not measured in ${modeFlag(mode)}`
          : `${row.target.label}: ${mark(verdict === 'met')}`;
    out.push(`| ${row.scenario} | ${row.label} | ${vals.map(cell).join(' | ')} | ${ratio(ab, raw)} | ${ratio(ab, sio)} | ${target} |`);
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
  out.push(...instrumentationCost(lines));
  out.push(...acksCost(lines));
  out.push(...clusterReport(lines));
  const streams = lines.filter((l) => l.scenario === 'stream');
  if (streams.length) {
    out.push('');
    out.push(
      'stream: token delay = arrival of each token at the client − its emission at the agent (same CLOCK_MONOTONIC), every token after the first; the raw relay and Socket.IO agents send the same AG-UI events unbatched (one frame per token), Agent Bridge\'s SDK agent batches (≤ 1 frame per stream per 20 ms).',
    );
    for (const l of streams) {
      const m = l.metrics;
      const re = m.reconnects ? `, ${m.reconnectsResumed}/${m.reconnects} reconnects resumed:true, ${m.reconnectsRecovered} had all missed text` : ', no reconnect (no resume)';
      out.push(`stream ${l.target}: ${m.finished}/${m.streams} replies finished, ${m.textIntact} with the exact text${re}`);
    }
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

/** A few sentences for a person: what was measured, how it compares, where the targets stand. */
export function humanSummary(lines: ResultLine[]): string {
  if (lines.length === 0) return 'Summary: nothing was measured.';
  const mode = lines[0]!.mode;
  const m = lines[0]!.machine;
  const out = [`Summary (${mode} run on ${m.cores} cores${mode === 'full' ? '' : '; small sizes, figures are indicative'}):`];
  const metric = (t: TargetName, s: string, k: string) => num(by(lines, t, s)?.metrics[k]);
  const times = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? '' : `${(a / b).toFixed(2)}×`);
  const ab = (s: string, k: string) => metric('agent-bridge', s, k);
  const echoRate = ab('echo', 'roundTripsPerSec');
  if (echoRate !== null) {
    const vsRaw = times(echoRate, metric('raw-relay', 'echo', 'roundTripsPerSec'));
    const vsSio = times(echoRate, metric('socket.io', 'echo', 'roundTripsPerSec'));
    const p99 = ab('echo', 'p99Us');
    out.push(
      `- echo: ${int(echoRate)} round trips/s${vsRaw ? `, ${vsRaw} the raw relay` : ''}${vsSio ? `, ${vsSio} Socket.IO` : ''}${p99 !== null ? `; p99 ${ms(p99)} ms` : ''}.`,
    );
  }
  const lat = ab('latency', 'p50Us');
  if (lat !== null) out.push(`- one client, one message in flight: p50 ${ms(lat)} ms through browser → web server → broker → agent and back.`);
  const fan = ab('fanout', 'deliveriesPerSecAtSaturation');
  if (fan !== null) {
    const sio = metric('socket.io', 'fanout', 'deliveriesPerSecAtSaturation');
    out.push(`- fan-out: ${int(fan)} broadcast deliveries/s${sio !== null ? ` (Socket.IO ${int(sio)})` : ''}; ${int(ab('fanout', 'lost') ?? 0)} lost.`);
  }
  const idle = by(lines, 'agent-bridge', 'idle');
  if (idle) {
    const rss = num(idle.metrics.serverRssBytesPerClient);
    out.push(
      `- idle: ${int(num(idle.metrics.clientsConnected) ?? 0)} clients connected in ${((num(idle.metrics.connectAllMs) ?? 0) / 1000).toFixed(2)} s; ` +
        (rss === null ? `memory per client not measured (needs a full run's ${int(10_000)} clients).` : `${kb(rss)} KB server RSS per client.`),
    );
  }
  const st = by(lines, 'agent-bridge', 'stream');
  if (st) {
    const raw = by(lines, 'raw-relay', 'stream');
    const vs = (k: string) => (raw && num(raw.metrics[k]) !== null ? ` (raw relay ${ms(num(raw.metrics[k])!)})` : '');
    const f = (k: string) => (num(st.metrics[k]) === null ? 'n/a' : ms(num(st.metrics[k])!));
    out.push(
      `- stream: ${st.metrics.streams} replies, time to first token p50 ${f('ttftP50Us')} ms${vs('ttftP50Us')}, token delay p99 ${f('tokenDelayP99Us')} ms${vs('tokenDelayP99Us')}, ` +
        `${st.metrics.framesPerToken} frames / token; reconnect mid-reply: missed text within ${f('reconnectMissedTextMaxUs')} ms of the welcome.`,
    );
  }
  const storm = by(lines, 'agent-bridge', 'storm');
  if (storm) {
    const t = num(storm.metrics.allResumedMs);
    out.push(
      `- broker restart: ${storm.metrics.reconnected}/${storm.metrics.clients} clients back, ${storm.metrics.resumed} resumed${t !== null ? ` within ${(t / 1000).toFixed(2)} s` : ''}, ${storm.metrics.lost} probes lost.`,
    );
  }
  const v = verdicts(lines);
  const count = (x: Verdict) => v.filter((e) => e.verdict === x);
  const missed = count('missed');
  const parts = [`${count('met').length} met`, `${missed.length} missed${missed.length ? ` (${missed.map((e) => `${e.row.scenario} ${e.row.target!.label}`).join(', ')})` : ''}`];
  if (count('not measured').length) parts.push(`${count('not measured').length} not measured in ${modeFlag(mode)} (they need the full run's sizes)`);
  out.push(`- targets: ${parts.join(', ')}.`);
  return out.join('\n');
}

/**
 * Issue 12's cost check: §8 acknowledgements on (agent-bridge: SDK acks, client ids, `accepted`)
 * vs off (agent-bridge-noacks), same build, one run. Budget: echo keeps ≥ 0.9× the throughput.
 */
export function acksCost(lines: ResultLine[]): string[] {
  const on = medianResult(lines, 'agent-bridge', 'echo');
  const off = medianResult(lines, 'agent-bridge-noacks', 'echo');
  if (!on || !off) return [];
  // With --repeat: the medians of the rounds, and the verdict on the median of the per-round ratios.
  const rows: [string, string, number | null, number | null, 'higher' | 'lower'][] = [
    ['round trips/s', 'roundTripsPerSec', num(on.metrics.roundTripsPerSec), num(off.metrics.roundTripsPerSec), 'higher'],
    ['server CPU µs / round trip', 'serverCpuUsPerRoundTrip', num(on.metrics.serverCpuUsPerRoundTrip), num(off.metrics.serverCpuUsPerRoundTrip), 'lower'],
  ];
  const out = ['', '§8 acknowledgements cost (acks on, the default, vs agent-bridge-noacks, same build, same run):', ''];
  out.push('| scenario | metric | acks on | acks off | on / off | budget |', '|---|---|--:|--:|--:|---|');
  for (const [label, key, a, b, dir] of rows) {
    const paired = pairedRatio(lines, 'agent-bridge-noacks', 'agent-bridge', 'echo', key);
    if (a === null || b === null || !paired) continue;
    const r = paired.median;
    const budget = dir === 'higher' ? `≥ 0.9×${perRound(paired)}: ${mark(r >= 0.9)}` : '—';
    out.push(`| echo | ${label} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${r.toFixed(2)}× | ${budget} |`);
  }
  return out;
}

/**
 * Issue 15's cost check: the same build with and without per-frame metrics and trace context
 * (targets agent-bridge and agent-bridge-bare in one run). Budget: ≤ 5 % throughput and ≤ 5 % CPU
 * per message. With `--repeat` the rounds are paired (round r on with round r off, run back to
 * back in alternating order) and the verdict is on the median of the per-round costs: on a shared
 * machine a single pair moves by more than the budget.
 */
export function instrumentationCost(lines: ResultLine[]): string[] {
  const serverCpu = (l: ResultLine) => {
    const w = l.processes['web-server']?.cpuUsPerOp;
    const b = l.processes.broker?.cpuUsPerOp;
    return w === undefined || b === undefined ? null : w + b;
  };
  const cpuByRate = (l: ResultLine) => (l.metrics.serverCpuUsPerDeliveryByRate ?? {}) as Record<string, number>;
  const rows: { scenario: string; label: string; get: (on: ResultLine, off: ResultLine) => [number | null, number | null]; dir: Dir; budget: boolean }[] = [
    { scenario: 'echo', label: 'round trips/s', get: pair((l) => num(l.metrics.roundTripsPerSec)), dir: 'higher', budget: true },
    { scenario: 'echo', label: 'server CPU µs / round trip', get: pair((l) => num(l.metrics.serverCpuUsPerRoundTrip)), dir: 'lower', budget: true },
    { scenario: 'echo', label: 'all-process CPU µs / round trip', get: pair((l) => num(l.metrics.allCpuUsPerRoundTrip)), dir: 'lower', budget: false },
    { scenario: 'fanout', label: 'deliveries/s at saturation', get: pair((l) => num(l.metrics.deliveriesPerSecAtSaturation)), dir: 'higher', budget: true },
    { scenario: 'fanout', label: 'server CPU µs / delivery, best step', get: pair(serverCpu), dir: 'lower', budget: false },
    {
      scenario: 'fanout',
      label: 'server CPU µs / delivery, same rate (highest both delivered in full)',
      get: (on, off) => {
        const a = cpuByRate(on);
        const b = cpuByRate(off);
        const common = Object.keys(a).filter((k) => b[k] !== undefined);
        const top = common.sort((x, y) => Number.parseFloat(y) - Number.parseFloat(x))[0];
        return top === undefined ? [null, null] : [a[top]!, b[top]!];
      },
      dir: 'lower',
      budget: true,
    },
  ];
  const rounds = [...new Set(lines.map((l) => l.round ?? 1))].sort((a, b) => a - b);
  const out: string[] = [];
  for (const row of rows) {
    const costs: number[] = [];
    const ons: number[] = [];
    const offs: number[] = [];
    for (const r of rounds) {
      const on = lines.find((l) => l.target === 'agent-bridge' && l.scenario === row.scenario && (l.round ?? 1) === r);
      const off = lines.find((l) => l.target === 'agent-bridge-bare' && l.scenario === row.scenario && (l.round ?? 1) === r);
      if (!on || !off) continue;
      const [a, b] = row.get(on, off);
      if (a === null || b === null || b === 0) continue;
      ons.push(a);
      offs.push(b);
      // Cost as a share of the bare figure: lower throughput or higher CPU with instrumentation on.
      costs.push(row.dir === 'higher' ? (b - a) / b : (a - b) / b);
    }
    if (!costs.length) continue;
    if (!out.length) {
      const many = rounds.length > 1;
      out.push('', `Instrumentation cost (metrics + trace context on vs METRICS=off TRACE=off, same build, same run${lines.some((l) => l.parallel) ? ', targets at the same time (--parallel)' : ''}${many ? `, median of ${rounds.length} rounds in alternating order` : ''}; a negative cost means on came out cheaper):`, '');
      out.push(`| scenario | metric | on | off | cost${many ? ' (median)' : ''} |${many ? ' per round |' : ''} budget ≤ 5 % |`, `|---|---|--:|--:|--:|${many ? '---|' : ''}---|`);
    }
    const cost = median(costs);
    const pct = (c: number) => `${(c * 100).toFixed(1)} %`;
    const perRound = rounds.length > 1 ? ` ${costs.map(pct).join(', ')} |` : '';
    out.push(`| ${row.scenario} | ${row.label} | ${median(ons).toFixed(1)} | ${median(offs).toFixed(1)} | ${pct(cost)} |${perRound} ${row.budget ? mark(cost <= 0.05) : '—'} |`);
  }
  return out;
}

function pair(get: (l: ResultLine) => number | null): (on: ResultLine, off: ResultLine) => [number | null, number | null] {
  return (on, off) => [get(on), get(off)];
}

