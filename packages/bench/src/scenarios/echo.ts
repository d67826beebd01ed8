/**
 * Echo: C clients each keep W messages of ~S bytes in flight through the whole path and back,
 * for D seconds after a warm-up. Also the latency floor (1 client, 1 in flight).
 */
import { round, sleep, Window } from '../measure.ts';
import type { WindowCounters } from '../loadgen/pool.ts';
import { startProfiles, stopProfiles } from './profiling.ts';
import type { ScenarioContext, ScenarioResult } from './types.ts';

interface EchoParams {
  clients: number;
  window: number;
  size: number;
  warmupMs: number;
  durationMs: number;
  drainMs: number;
}

/** JSON overhead of `{"e":1,"t":…,"p":""}`, so that `size` is the payload's encoded size. */
const ENVELOPE = 36;

async function runEcho(ctx: ScenarioContext, scenario: 'echo' | 'latency', p: EchoParams, profile: boolean): Promise<ScenarioResult> {
  const { topo } = ctx;
  const lg = topo.loadgen;
  const notes: string[] = [];
  const conn = await lg.call<{ connected: number; failed: number; firstError?: string }>('connect', {
    n: p.clients,
    concurrency: ctx.opts.connectConcurrency,
    deadlineMs: 60_000,
  });
  if (conn.failed) notes.push(`${conn.failed} clients failed to connect: ${conn.firstError}`);
  await lg.call('echoStart', { clients: p.clients, window: p.window, padding: Math.max(0, p.size - ENVELOPE) });
  await sleep(p.warmupMs);
  await lg.call('mark');
  // The agent and the load generator too: both are on the round trip's critical path (same cores).
  const profiled = profile ? topo.all : [];
  await startProfiles(profiled);
  const win = new Window(topo.all);
  await win.start();
  await sleep(p.durationMs);
  const counters = await lg.call<WindowCounters>('mark');
  const processes = await win.stop(counters.echoes);
  await stopProfiles(ctx, profiled, scenario, notes);
  const fin = await lg.call<{ sent: number; received: number; lost: number; errors: Record<string, number> }>(
    'echoStop',
    { drainMs: p.drainMs },
    p.drainMs + 10_000,
  );
  await lg.call('closeAll', undefined, 60_000);
  const seconds = win.elapsedMs / 1000;
  const serverCpu = topo.servers.reduce((s, c) => s + (processes[c.spec.name]?.cpuUs ?? 0), 0);
  const allCpu = Object.values(processes).reduce((s, m) => s + (m.cpuUs ?? 0), 0);
  return {
    scenario,
    params: { ...p, clientsConnected: conn.connected },
    metrics: {
      roundTripsPerSec: round(counters.echoes / seconds),
      p50Us: counters.latency.p50Us,
      p90Us: counters.latency.p90Us,
      p99Us: counters.latency.p99Us,
      maxUs: counters.latency.maxUs,
      meanUs: counters.latency.meanUs,
      roundTrips: counters.echoes,
      sent: fin.sent,
      lost: fin.lost,
      errors: fin.errors,
      serverCpuUsPerRoundTrip: counters.echoes ? round(serverCpu / counters.echoes, 2) : null,
      allCpuUsPerRoundTrip: counters.echoes ? round(allCpu / counters.echoes, 2) : null,
    },
    processes,
    notes,
  };
}

export const echo = (ctx: ScenarioContext) => runEcho(ctx, 'echo', ctx.opts.echo, ctx.opts.profile);

export const latency = (ctx: ScenarioContext) => runEcho(ctx, 'latency', { ...ctx.opts.latency, clients: 1, window: 1 }, false);
