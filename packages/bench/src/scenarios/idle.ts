/**
 * Idle: N clients connected through every hop and left alone; RSS and V8 heap per client in each
 * server process, and the time to connect them all. Memory per client is the slope between two
 * populations (after the first 20 % and after all, a full GC before each reading), so the fixed
 * cost of warming up the code paths and earlier scenarios' garbage do not count.
 */
import { round, sleep, Window, type ProcessMetrics } from '../measure.ts';
import type { ProbeStats } from '../probe.ts';
import type { ScenarioContext, ScenarioResult } from './types.ts';

/**
 * Below this many clients in the slope, memory per client is not reported. RSS moves in pages
 * and arenas, and a GC may hand memory back to the OS between the two readings: a few MB of
 * noise either way. At ~10 KB per client that noise is the whole signal under a few thousand
 * clients, and the slope can even come out negative (a quick run's 400 clients did: −1.9 KB).
 */
export const MIN_CLIENTS_FOR_MEMORY = 2000;

interface Connected {
  connected: number;
  failed: number;
  ms: number;
  firstError?: string;
}

export async function idle(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { topo, opts } = ctx;
  const notes: string[] = [];
  const want = opts.idle.clients;
  const first = Math.max(1, Math.round(want * 0.2));
  const connect = (n: number) =>
    topo.loadgen.call<Connected>('connect', { n, concurrency: opts.connectConcurrency, deadlineMs: 180_000 }, 200_000);
  const readings = async () => {
    await sleep(opts.idle.settleMs);
    const m = new Map<string, ProbeStats>();
    for (const c of topo.servers) m.set(c.spec.name, await c.gcStats());
    return m;
  };
  const win = new Window(topo.all);
  await win.start();
  const a = await connect(first);
  const atFirst = await readings();
  const b = await connect(want - first);
  const windowed = await win.stop(a.connected + b.connected);
  const atAll = await readings();
  // Connected and silent: what the heartbeats (and anything else periodic) cost.
  const quiet = new Window(topo.servers);
  await quiet.start();
  await sleep(opts.idle.cpuWindowMs);
  const idleCpu = await quiet.stop(0);
  const perClientSec = (cpuUs: number | undefined) => (b.connected && cpuUs !== undefined ? cpuUs / (a.connected + b.connected) / (quiet.elapsedMs / 1000) : 0);
  let idleCpuPerClientSec = 0;
  const failed = a.failed + b.failed;
  if (failed) notes.push(`${failed} clients failed to connect: ${a.firstError ?? b.firstError}`);
  const n = b.connected;
  const memoryMeasured = n >= MIN_CLIENTS_FOR_MEMORY;
  if (!memoryMeasured) {
    notes.push(`memory per client not measured: ${n} clients in the slope, ${MIN_CLIENTS_FOR_MEMORY} needed to rise above RSS/heap noise`);
  }
  const processes: Record<string, ProcessMetrics> = {};
  let rssPerClient = 0;
  let heapPerClient = 0;
  for (const c of topo.servers) {
    const after = atAll.get(c.spec.name)!;
    const before = atFirst.get(c.spec.name)!;
    const rss = n ? (after.rssBytes - before.rssBytes) / n : 0;
    const heap = n ? (after.heapUsedBytes - before.heapUsedBytes) / n : 0;
    rssPerClient += rss;
    heapPerClient += heap;
    const cpu = perClientSec(idleCpu[c.spec.name]?.cpuUs);
    idleCpuPerClientSec += cpu;
    processes[c.spec.name] = {
      ...windowed[c.spec.name],
      rssBytes: after.rssBytes,
      heapUsedBytes: after.heapUsedBytes,
      ...(memoryMeasured ? { rssBytesPerClient: round(Math.max(0, rss)), heapBytesPerClient: round(Math.max(0, heap)) } : {}),
      idleCpuUsPerClientPerSec: round(cpu, 3),
    };
  }
  for (const c of [topo.agent, topo.loadgen]) processes[c.spec.name] = windowed[c.spec.name]!;
  await topo.loadgen.call('closeAll', undefined, 120_000);
  const total = a.connected + b.connected;
  return {
    scenario: 'idle',
    params: { ...opts.idle, memoryMeasuredOver: `clients ${first + 1}..${want}` },
    metrics: {
      clientsConnected: total,
      failed,
      connectAllMs: round(a.ms + b.ms),
      connectsPerSec: round(total / ((a.ms + b.ms) / 1000)),
      // null: not measured (too few clients, see MIN_CLIENTS_FOR_MEMORY), never a negative size.
      serverRssBytesPerClient: memoryMeasured ? Math.max(0, round(rssPerClient)) : null,
      serverHeapBytesPerClient: memoryMeasured ? Math.max(0, round(heapPerClient)) : null,
      serverIdleCpuUsPerClientPerSec: round(idleCpuPerClientSec, 3),
      connectCpuUsPerClient: round(topo.servers.reduce((s, c) => s + (windowed[c.spec.name]?.cpuUs ?? 0), 0) / Math.max(1, a.connected + b.connected)),
    },
    processes,
    notes,
  };
}
