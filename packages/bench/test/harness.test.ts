/**
 * `pnpm bench` end to end in a tiny configuration: every target × scenario with real processes
 * (broker, web server, SDK agent, load generator; raw relay; Socket.IO), a handful of clients,
 * well under a second per scenario. Checks the output's shape, not timings.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs, presetOptions, runBench, SCENARIOS, TARGETS, type BenchRun, type ResultLine } from '../src/index.ts';
import { acksCost, humanSummary, instrumentationCost } from '../src/report.ts';

const outDir = mkdtempSync(path.join(os.tmpdir(), 'bench-test-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function numbersIn(v: unknown, at: string, out: [string, number][] = []): [string, number][] {
  if (typeof v === 'number') out.push([at, v]);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) numbersIn(x, `${at}.${k}`, out);
  return out;
}

describe('pnpm bench (tiny configuration)', () => {
  let run: BenchRun;
  const printed: string[] = [];

  it('runs every target × scenario and writes one parseable JSON line for each', async () => {
    run = await runBench(presetOptions('tiny', { outDir, verbose: false }), (l) => printed.push(l));
    expect(run.errors).toEqual([]);
    const fromFile = readFileSync(run.jsonlFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ResultLine);
    // The cluster target runs no stream, and nothing without Redis: said as "not measured", not failed.
    const skipped = (t: string, s: string) => run.markdown.includes(`${s} × ${t}: not measured`);
    expect(skipped('agent-bridge-cluster', 'stream')).toBe(true);
    const pairs = TARGETS.flatMap((t) => SCENARIOS.filter((s) => !skipped(t, s)).map((s) => [t, s] as const));
    expect(fromFile).toHaveLength(pairs.length);
    expect(printed.map((l) => JSON.parse(l))).toEqual(fromFile);
    for (const [t, s] of pairs) expect(fromFile.filter((l) => l.target === t && l.scenario === s), `${t} × ${s}`).toHaveLength(1);
    for (const l of fromFile) {
      expect(l.machine.cores).toBeGreaterThan(0);
      expect(l.machine.node).toMatch(/^v\d+/);
      expect(l.machine.loadavg).toHaveLength(3);
      for (const [at, n] of numbersIn({ metrics: l.metrics, processes: l.processes }, `${l.target}.${l.scenario}`)) {
        expect(Number.isFinite(n), at).toBe(true);
      }
      expect(Object.keys(l.processes)).toEqual(expect.arrayContaining(['agent', 'loadgen']));
    }
  }, 240_000);

  it('loses nothing in echo and measures every hop', () => {
    for (const l of run.lines.filter((x) => x.scenario === 'echo' || x.scenario === 'latency')) {
      expect(l.metrics.lost, `${l.target} ${l.scenario}`).toBe(0);
      expect(l.metrics.roundTrips as number).toBeGreaterThan(0);
      expect(l.metrics.p99Us as number).toBeGreaterThanOrEqual(l.metrics.p50Us as number);
      for (const [name, p] of Object.entries(l.processes)) expect(p.cpuUs, `${l.target} ${name}`).toBeGreaterThan(0);
    }
    const ab = run.lines.find((x) => x.target === 'agent-bridge' && x.scenario === 'echo')!;
    expect(Object.keys(ab.processes).sort()).toEqual(['agent', 'broker', 'loadgen', 'web-server']);
  });

  it('reports fan-out, idle memory and the storm for every target', () => {
    for (const l of run.lines) {
      if (l.scenario === 'fanout') expect(l.metrics.deliveriesPerSecAtSaturation as number).toBeGreaterThan(0);
      if (l.scenario === 'idle') {
        expect(l.metrics.clientsConnected).toBe(5);
        // Five clients are far below what a per-client memory figure needs: not measured, never negative.
        expect(l.metrics.serverRssBytesPerClient).toBeNull();
        expect(l.notes.join(' ')).toMatch(/memory per client not measured/);
      }
      if (l.scenario === 'storm') {
        expect(l.metrics.clients).toBe(5);
        // The cluster kills one of two brokers: only the clients it held come back.
        expect(l.metrics.reconnected).toBe(l.target === 'agent-bridge-cluster' ? l.metrics.affected : 5);
        expect(typeof l.metrics.lost).toBe('number');
      }
    }
  });

  it('reports what Redis does in the cluster: commands and CPU per round trip, bytes per session, commands per broadcast', () => {
    const c = (s: string) => run.lines.find((l) => l.target === 'agent-bridge-cluster' && l.scenario === s);
    if (!c('echo')) return; // no Redis here: the cluster target said "not measured"
    expect(c('echo')!.metrics.redisCommandsPerRoundTrip as number).toBeGreaterThan(0);
    expect(Object.keys(c('echo')!.processes).sort()).toEqual(['agent', 'broker-1', 'broker-2', 'loadgen', 'web-1', 'web-2']);
    expect(c('idle')!.metrics.redisBytesPerSession as number).toBeGreaterThan(0);
    expect(c('fanout')!.metrics.redisCommandsPerBroadcast as number).toBeGreaterThan(0);
    expect(c('fanout')!.metrics.redisAppendsPerBroadcast as number).toBeGreaterThanOrEqual(5);
    expect(run.markdown).toContain('Cluster mode (agent-bridge-cluster');
  });

  it('streams replies to every target: time to first token, per-token delay, frames and bytes per token, a resumed reconnect', () => {
    const tiny = presetOptions('tiny').stream;
    for (const l of run.lines.filter((x) => x.scenario === 'stream')) {
      const m = l.metrics as Record<string, number | null>;
      expect(m.streams, l.target).toBe(tiny.clients);
      expect(m.finished, l.target).toBe(tiny.clients);
      expect(m.textIntact, `${l.target}: every client assembled exactly the reply`).toBe(tiny.clients);
      expect(m.ttftP50Us!).toBeGreaterThan(0);
      expect(m.tokenDelayP99Us!).toBeGreaterThanOrEqual(m.tokenDelayP50Us!);
      expect(m.bytesPerToken!).toBeGreaterThan(0);
      if (l.target === 'agent-bridge') {
        // The SDK batches (several tokens per frame at 200 tokens/s) and the bridge resumes a drop.
        expect(m.framesPerToken!).toBeLessThan(1);
        expect(m.textFramesPerStreamPer20Ms!).toBeLessThanOrEqual(1);
        expect(m.unbatchedFramesPerToken!).toBeGreaterThanOrEqual(1);
        expect(m.unbatchedTextIntact).toBe(tiny.clients);
        expect(m.reconnects).toBe(tiny.reconnects);
        expect(m.reconnectsResumed).toBe(tiny.reconnects);
        expect(m.reconnectMissedTokens!).toBeGreaterThan(0);
        expect(m.reconnectMissedTextMaxUs).toEqual(expect.any(Number));
      } else {
        // One frame per token, plus the run's start and end events.
        expect(m.framesPerToken!).toBeGreaterThanOrEqual(1);
        expect(m.reconnects).toBe(0);
        expect(l.notes.join(' ')).toMatch(/no resume/);
      }
    }
    expect(run.markdown).toMatch(/\| stream \| time to first token p50 ms \| [\d.]+ \| [\d.]+ \| [\d.]+ \|.*≤ raw \+ 2 ms: not measured in tiny mode/);
    expect(run.markdown).toMatch(/\| stream \| text frames \/ stream \/ 20 ms \(worst stream\) \| 1\.00 \| .*≤ 1: ✅/);
    expect(run.markdown).toMatch(/\| stream \| reconnect: missed text after welcome, max ms \| [\d.]+ \| n\/a \| n\/a \|/);
    expect(run.markdown).toMatch(/agents send the same AG-UI events unbatched/);
  });

  it('prints a markdown table with the ratios to both comparators', () => {
    expect(run.markdown).toContain('| scenario | metric | agent-bridge | raw relay | Socket.IO | AB ÷ raw | AB ÷ Socket.IO | target |');
    expect(run.markdown).toMatch(/\| echo \| round trips\/s \| [\d,]+ \| [\d,]+ \| [\d,]+ \| \d+\.\d\d× \| \d+\.\d\d× \|/);
    expect(readFileSync(run.jsonlFile.replace(/\.jsonl$/, '.md'), 'utf8')).toContain(run.markdown);
  });

  it('says "not measured" for the targets a small run cannot measure, and ends with a summary for people', () => {
    expect(run.markdown).toMatch(/≤ 15 KB: not measured in tiny mode/);
    expect(run.markdown).toMatch(/< 10 s: not measured in tiny mode/);
    expect(run.markdown).not.toMatch(/(15 KB|< 10 s|≥ Socket\.IO): ❌/);
    expect(run.markdown).not.toMatch(/\| -\d/); // no negative figure in any cell
    const summary = humanSummary(run.lines);
    expect(summary).toMatch(/^Summary \(tiny run/);
    expect(summary).toMatch(/- echo: [\d,]+ round trips\/s/);
    expect(summary).toMatch(/memory per client not measured/);
    expect(summary).toMatch(/- targets: \d+ met, \d+ missed.*\d+ not measured in tiny mode/);
  });
});

describe('pricing a variant: --repeat, --parallel and the instrumentation-cost table', () => {
  it('parses --repeat N and --parallel', () => {
    const o = parseArgs(['--repeat', '3', '--parallel', '--targets', 'agent-bridge,agent-bridge-bare']);
    expect(o).toMatchObject({ repeat: 3, parallel: true });
    expect(parseArgs(['--repeat=0'])).toHaveProperty('help');
    expect(parseArgs([])).toMatchObject({ repeat: 1, parallel: false });
  });

  const line = (target: 'agent-bridge' | 'agent-bridge-bare' | 'agent-bridge-noacks', round: number, rate: number, web: number, broker: number): ResultLine =>
    ({
      ts: '',
      mode: 'full',
      target,
      topology: '',
      round,
      scenario: 'echo',
      params: {},
      metrics: { roundTripsPerSec: rate, serverCpuUsPerRoundTrip: web + broker, allCpuUsPerRoundTrip: web + broker + 10 },
      processes: { 'web-server': { cpuUsPerOp: web }, broker: { cpuUsPerOp: broker } },
      notes: [],
      machine: { cores: 2, cpu: '', node: 'v20', platform: '', totalMemMB: 1, loadavg: [0, 0, 0], fdLimit: 1 },
    }) as ResultLine;
  it('pairs the rounds and judges the median cost, CPU per message included', () => {
    const lines = [
      line('agent-bridge', 1, 900, 20, 40), // 10 % slower, 20 % more CPU: an outlier round
      line('agent-bridge-bare', 1, 1000, 20, 30),
      line('agent-bridge-bare', 2, 1000, 20, 30),
      line('agent-bridge', 2, 980, 20, 31.5), // 2 %, 3 %
      line('agent-bridge', 3, 990, 20, 31), // 1 %, 2 %
      line('agent-bridge-bare', 3, 1000, 20, 30),
    ];
    const table = instrumentationCost(lines).join('\n');
    expect(table).toMatch(/median of 3 rounds/);
    expect(table).toMatch(/\| echo \| round trips\/s \| 980\.0 \| 1000\.0 \| 2\.0 % \| 10\.0 %, 2\.0 %, 1\.0 % \| ✅ \|/);
    expect(table).toMatch(/\| echo \| server CPU µs \/ round trip \| 51\.5 \| 50\.0 \| 3\.0 % \| 20\.0 %, 3\.0 %, 2\.0 % \| ✅ \|/);
  });

  it('judges the §8 acks cost on the median of the per-round ratios, not on one round', () => {
    const lines = [
      line('agent-bridge', 1, 950, 20, 30), // 0.95: a lucky first round must not decide
      line('agent-bridge-noacks', 1, 1000, 20, 30),
      line('agent-bridge-noacks', 2, 1000, 20, 30),
      line('agent-bridge', 2, 850, 20, 30), // 0.85
      line('agent-bridge', 3, 880, 20, 30), // 0.88
      line('agent-bridge-noacks', 3, 1000, 20, 30),
    ];
    const table = acksCost(lines).join('\n');
    expect(table).toMatch(/\| echo \| round trips\/s \| 880\.0 \| 1000\.0 \| 0\.88× \| ≥ 0\.9× \(median of 3 rounds: 0\.95, 0\.85, 0\.88\): ❌ \|/);
  });
});
