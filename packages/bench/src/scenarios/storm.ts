/**
 * Reconnect storm: N clients connected (each with one echoed message behind it), the broker is
 * stopped (SIGTERM) and started again on the same port; every client sends one probe during the
 * outage (or as soon as its client can). Result: time until every client is back (and resumed,
 * where the target has resume), and how many probes never came back.
 */
import { nowUs } from '../histogram.ts';
import { round, sleep, Window } from '../measure.ts';
import type { StormStatus } from '../loadgen/pool.ts';
import type { ScenarioContext, ScenarioResult } from './types.ts';

export async function storm(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { topo, opts } = ctx;
  const lg = topo.loadgen;
  const notes: string[] = [];
  const conn = await lg.call<{ connected: number; failed: number; firstError?: string }>(
    'connect',
    { n: opts.storm.clients, concurrency: opts.connectConcurrency, deadlineMs: 120_000 },
    150_000,
  );
  if (conn.failed) notes.push(`${conn.failed} clients failed to connect: ${conn.firstError}`);
  const status = (t0: number) => lg.call<StormStatus>('stormStatus', { t0Us: t0 });
  // One round trip per client first, so every session has history (a seq) to resume.
  await lg.call('stormArm');
  await lg.call('stormProbe');
  const warm = nowUs();
  let w = await status(warm);
  for (; w.probesEchoed < w.clients && nowUs() - warm < 30e6; w = await status(warm)) await sleep(100);
  // Said, not hidden: the storm then starts with clients whose session has no history (and an agent that may be away).
  if (w.probesEchoed < w.clients) notes.push(`warm-up: ${w.probesEchoed} of ${w.clients} first messages echoed within 30 s`);

  await lg.call('stormArm');
  const win = new Window(topo.all.filter((c) => c !== topo.broker));
  await win.start();
  const t0 = nowUs();
  await topo.stopBroker();
  // Probes go out while the broker is down (clients whose path is down queue them).
  await lg.call('stormProbe');
  await topo.startBroker();
  const downMs = (nowUs() - t0) / 1000;
  // Done when every client is back and every probe echoed; or, once every client is back, when
  // no echo has arrived for quietMs (the rest are lost); or at the deadline.
  const deadline = t0 + opts.storm.timeoutMs * 1000;
  let s = await status(t0);
  let lastEchoes = -1;
  let lastBack = -1;
  let quietSince = nowUs();
  while (nowUs() < deadline) {
    if (s.reconnected === s.clients && s.probesEchoed === s.clients) break;
    // Quiet = neither an echo nor a client back for quietMs (a resumed client's held probe goes
    // out after its replay, so the last client back must get its turn).
    if (s.probesEchoed !== lastEchoes || s.reconnected !== lastBack) {
      lastEchoes = s.probesEchoed;
      lastBack = s.reconnected;
      quietSince = nowUs();
    } else if (s.reconnected === s.clients && nowUs() - quietSince > opts.storm.quietMs * 1000) break;
    await sleep(100);
    s = await status(t0);
  }
  const processes = await win.stop(0);
  await lg.call('closeAll', undefined, 60_000);
  if (s.reconnected < s.clients) notes.push(`${s.clients - s.reconnected} clients not back within ${opts.storm.timeoutMs} ms`);
  return {
    scenario: 'storm',
    params: { ...opts.storm, restart: 'SIGTERM, same port' },
    metrics: {
      clients: s.clients,
      brokerDownMs: round(downMs),
      reconnected: s.reconnected,
      resumed: s.resumed,
      allResumed: s.resumed === s.clients && s.clients > 0,
      allReconnectedMs: s.reconnected === s.clients ? round(s.lastReconnectMs) : null,
      allResumedMs: s.lastResumeMs === null ? null : round(s.lastResumeMs),
      allProbesEchoedMs: s.probesEchoed === s.clients ? round(s.lastEchoMs) : null,
      lost: s.clients - s.probesEchoed,
    },
    processes,
    notes,
  };
}
