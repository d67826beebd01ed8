/**
 * The cluster section of the report (issue 11 item 7, issue 12 item 5): agent-bridge-cluster
 * (2 brokers + 2 web servers + Redis) against agent-bridge (one process each) from the same run,
 * with the cluster targets: echo ≥ 0.6× single process; Redis commands per broadcast ≤ brokers +
 * a small constant beyond the per-session appends; the storm resumed in < 10 s with 0 lost in both
 * modes; §8 acks on ≥ 0.9× acks off in cluster mode. With `--repeat`, figures are the medians of
 * the rounds and the judged ratios the medians of the per-round ratios.
 */
import type { ResultLine } from './report.ts';
import { medianResult as by, pairedRatio, perRound } from './rounds.ts';

/** Broker commands per broadcast beyond one append per session: brokers + this. */
export const BROADCAST_CONSTANT = 3;

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const mark = (ok: boolean) => (ok ? '✅' : '❌');
const f = (v: number | null, d = 1) => (v === null || !Number.isFinite(v) ? 'n/a' : v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));

export function clusterReport(lines: ResultLine[]): string[] {
  const c = (s: string) => by(lines, 'agent-bridge-cluster', s);
  const one = (s: string) => by(lines, 'agent-bridge', s);
  if (!lines.some((l) => l.target === 'agent-bridge-cluster' || l.target === 'agent-bridge-cluster-noacks')) return [];
  const full = (lines[0]?.mode ?? 'full') === 'full';
  const judged = (ok: boolean | null, label: string) => (ok === null ? '' : full ? `${label}: ${mark(ok)}` : `${label}: not measured in --quick (tiny sizes)`);
  const out = [
    '',
    `Cluster mode (agent-bridge-cluster: 2 brokers + 2 web servers + Redis on the same machine, clients spread over both web servers; agent-bridge: one broker + one web server; same run${full ? '' : '; the cluster at the tiny sizes in --quick, so no ratios'}):`,
    '',
    '| scenario | metric | single process | cluster | cluster ÷ single | target |',
    '|---|---|--:|--:|--:|---|',
  ];
  /** `paired`: the ratio to show instead of the medians' (the median of the per-round ratios). */
  const row = (scenario: string, label: string, get: (l: ResultLine) => number | null, d: number, target = '', paired?: number) => {
    const a = one(scenario);
    const b = c(scenario);
    if (!a && !b) return;
    const va = a ? get(a) : null;
    const vb = b ? get(b) : null;
    const plain = va !== null && vb !== null && Number.isFinite(va) && Number.isFinite(vb) && va !== 0 ? vb / va : null;
    const shown = paired ?? plain;
    const ratio = full && shown !== null ? `${shown.toFixed(2)}×` : '–';
    out.push(`| ${scenario} | ${label} | ${a ? f(va, d) : ''} | ${b ? f(vb, d) : ''} | ${ratio} | ${target} |`);
  };
  const m = (k: string) => (l: ResultLine) => num(l.metrics[k]);
  const echo = pairedRatio(lines, 'agent-bridge', 'agent-bridge-cluster', 'echo', 'roundTripsPerSec');
  row('echo', 'round trips/s', m('roundTripsPerSec'), 0, judged(echo ? echo.median >= 0.6 : null, `≥ 0.6×${perRound(echo)}`), echo?.median);
  row('echo', 'p50 ms', (l) => (num(l.metrics.p50Us) ?? NaN) / 1000, 2);
  row('echo', 'p99 ms', (l) => (num(l.metrics.p99Us) ?? NaN) / 1000, 2);
  row('echo', 'server CPU µs / round trip (web + broker processes)', m('serverCpuUsPerRoundTrip'), 1);
  row('echo', '… + Redis CPU µs / round trip', m('redisCpuUsPerRoundTrip'), 1);
  row('echo', 'Redis commands / round trip (in scripts included)', m('redisCommandsPerRoundTrip'), 1);
  row('echo', 'lost', m('lost'), 0);
  row('latency', 'p50 ms (1 client, 1 in flight)', (l) => (num(l.metrics.p50Us) ?? NaN) / 1000, 2);
  row('fanout', 'deliveries/s at saturation', m('deliveriesPerSecAtSaturation'), 0);
  row('fanout', 'p99 delivery ms (at that rate)', (l) => (num(l.metrics.p99Us) ?? NaN) / 1000, 1);
  row('fanout', 'messages lost', m('lost'), 0);
  const fan = c('fanout');
  if (fan) {
    const step = (fan.metrics.commandsStep ?? {}) as Record<string, number>;
    const beyond = num(fan.metrics.redisBrokerCommandsBeyondAppends);
    const brokers = step.brokers ?? 2;
    row('fanout', `Redis commands / broadcast, all (${step.sessions ?? '?'} sessions)`, m('redisCommandsPerBroadcast'), 1);
    row('fanout', 'Redis commands / broadcast sent by the brokers', m('redisBrokerCommandsPerBroadcast'), 1);
    row(
      'fanout',
      '… beyond one append per session',
      m('redisBrokerCommandsBeyondAppends'),
      1,
      judged(beyond === null ? null : beyond <= brokers + BROADCAST_CONSTANT, `≤ brokers + ${BROADCAST_CONSTANT} = ${brokers + BROADCAST_CONSTANT}`),
    );
  }
  row('idle', 'server RSS KB / client', (l) => (num(l.metrics.serverRssBytesPerClient) ?? NaN) / 1024, 1);
  row('idle', 'server heap KB / client', (l) => (num(l.metrics.serverHeapBytesPerClient) ?? NaN) / 1024, 1);
  row('idle', 'Redis used_memory bytes / session', m('redisBytesPerSession'), 0);
  row('idle', 'time to connect all, s', (l) => (num(l.metrics.connectAllMs) ?? NaN) / 1000, 2);
  const stormJudge = (l: ResultLine | undefined) => {
    if (!l) return null;
    const t = num(l.metrics.allResumedMs);
    return t !== null && t < 10_000 && l.metrics.lost === 0;
  };
  const sa = one('storm');
  const sb = c('storm');
  if (sa || sb) {
    out.push(
      `| storm | clients back with resumed:true (single: all, broker SIGTERM + restart from its snapshot; cluster: those on broker-1, SIGKILL) | ${sa ? `${sa.metrics.resumed}/${sa.metrics.clients}` : ''} | ${sb ? `${sb.metrics.resumed}/${sb.metrics.affected} of ${sb.metrics.clients}` : ''} | – | |`,
    );
    row('storm', 'all of them back resumed, s', (l) => (num(l.metrics.allResumedMs) ?? NaN) / 1000, 2);
    row('storm', 'probes lost', m('lost'), 0);
    out.push(`| storm | target: < 10 s and 0 lost, each mode | ${sa ? judged(stormJudge(sa), 'single') : ''} | ${sb ? judged(stormJudge(sb), 'cluster') : ''} | | |`);
  }
  const on = c('echo');
  const off = by(lines, 'agent-bridge-cluster-noacks', 'echo');
  if (on && off) {
    const a = num(on.metrics.roundTripsPerSec);
    const b = num(off.metrics.roundTripsPerSec);
    const acks = pairedRatio(lines, 'agent-bridge-cluster-noacks', 'agent-bridge-cluster', 'echo', 'roundTripsPerSec');
    if (a !== null && b && acks) {
      out.push(
        '',
        '§8 acknowledgements cost in cluster mode (agent-bridge-cluster vs agent-bridge-cluster-noacks, same run):',
        '',
        '| metric | acks on | acks off | on / off | budget |',
        '|---|--:|--:|--:|---|',
        `| echo round trips/s | ${f(a, 0)} | ${f(b, 0)} | ${acks.median.toFixed(2)}× | ${judged(acks.median >= 0.9, `≥ 0.9×${perRound(acks)}`)} |`,
        `| echo server CPU µs / round trip | ${f(num(on.metrics.serverCpuUsPerRoundTrip))} | ${f(num(off.metrics.serverCpuUsPerRoundTrip))} | – | |`,
        `| echo Redis commands / round trip | ${f(num(on.metrics.redisCommandsPerRoundTrip))} | ${f(num(off.metrics.redisCommandsPerRoundTrip))} | – | |`,
      );
    }
  }
  return out;
}
