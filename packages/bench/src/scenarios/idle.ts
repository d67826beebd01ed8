/**
 * Idle: N clients connected through every hop and left alone; RSS and V8 heap per client in each
 * server process (after a full GC in each), and the time to connect them all.
 */
import { round, sleep, Window, type ProcessMetrics } from '../measure.ts';
import type { ProbeStats } from '../probe.ts';
import type { ScenarioContext, ScenarioResult } from './types.ts';

export async function idle(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { topo, opts } = ctx;
  const notes: string[] = [];
  const want = opts.idle.clients;
  const before = new Map<string, ProbeStats>();
  for (const c of topo.servers) before.set(c.spec.name, await c.gcStats());
  const win = new Window(topo.all);
  await win.start();
  const conn = await topo.loadgen.call<{ connected: number; failed: number; ms: number; firstError?: string }>(
    'connect',
    { n: want, concurrency: opts.connectConcurrency, deadlineMs: 180_000 },
    200_000,
  );
  const windowed = await win.stop(conn.connected);
  if (conn.failed) notes.push(`${conn.failed} clients failed to connect: ${conn.firstError}`);
  await sleep(opts.idle.settleMs);
  const n = conn.connected;
  const processes: Record<string, ProcessMetrics> = {};
  let rssPerClient = 0;
  let heapPerClient = 0;
  for (const c of topo.servers) {
    const a = await c.gcStats();
    const b = before.get(c.spec.name)!;
    const rss = n ? (a.rssBytes - b.rssBytes) / n : 0;
    const heap = n ? (a.heapUsedBytes - b.heapUsedBytes) / n : 0;
    rssPerClient += rss;
    heapPerClient += heap;
    processes[c.spec.name] = {
      ...windowed[c.spec.name],
      rssBytes: a.rssBytes,
      heapUsedBytes: a.heapUsedBytes,
      rssBytesPerClient: round(rss),
      heapBytesPerClient: round(heap),
    };
  }
  for (const c of [topo.agent, topo.loadgen]) processes[c.spec.name] = windowed[c.spec.name]!;
  await topo.loadgen.call('closeAll', undefined, 120_000);
  return {
    scenario: 'idle',
    params: { clients: want },
    metrics: {
      clientsConnected: n,
      failed: conn.failed,
      connectAllMs: round(conn.ms),
      connectsPerSec: round(n / (conn.ms / 1000)),
      serverRssBytesPerClient: round(rssPerClient),
      serverHeapBytesPerClient: round(heapPerClient),
    },
    processes,
    notes,
  };
}
