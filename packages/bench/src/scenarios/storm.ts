/**
 * Reconnect storm: N clients connected (each with one echoed message behind it), the broker is
 * stopped (SIGTERM) and started again on the same port; every client sends one probe during the
 * outage (or as soon as its client can). Result: time until every client is back (and resumed,
 * where the target has resume), and how many probes never came back.
 *
 * The cluster targets run the same storm with a broker SIGKILL (cluster.ts, stormCluster): both
 * use `stormSetup` and `stormWait` below. `--profile`: the servers are CPU-profiled from the
 * broker's restart to the end of the wait. `BENCH_STORM_DOWN_MS=N`: the broker is started again no
 * sooner than N ms after its stop (a slow restart, as on a loaded machine, where the redials'
 * backoff steps show).
 */
import { readFileSync } from 'node:fs';
import { nowUs } from '../histogram.ts';
import { round, sleep, Window } from '../measure.ts';
import type { StormStatus } from '../loadgen/pool.ts';
import { startProfiles, stopProfiles } from './profiling.ts';
import type { ScenarioContext, ScenarioResult } from './types.ts';

/** The load generator's view of the storm, times in ms after `t0` (µs, CLOCK_MONOTONIC). */
export const stormStatus = (ctx: ScenarioContext, t0: number) => ctx.topo.loadgen.call<StormStatus>('stormStatus', { t0Us: t0 });

/**
 * Connect the storm's clients and give every session history: one round trip each, so there is a
 * seq to resume. What did not go to plan is said in `notes`, not hidden. Ends armed: from here on
 * the load generator records when each client is back and when its probe is echoed.
 */
export async function stormSetup(ctx: ScenarioContext, notes: string[]): Promise<void> {
  const { topo, opts } = ctx;
  const lg = topo.loadgen;
  const conn = await lg.call<{ connected: number; failed: number; firstError?: string }>(
    'connect',
    { n: opts.storm.clients, concurrency: opts.connectConcurrency, deadlineMs: 120_000 },
    150_000,
  );
  if (conn.failed) notes.push(`${conn.failed} clients failed to connect: ${conn.firstError}`);
  await lg.call('stormArm');
  await lg.call('stormProbe');
  const warm = nowUs();
  let w = await stormStatus(ctx, warm);
  for (; w.probesEchoed < w.clients && nowUs() - warm < 30e6; w = await stormStatus(ctx, warm)) await sleep(100);
  // The storm then starts with clients whose session has no history (and an agent that may be away).
  if (w.probesEchoed < w.clients) notes.push(`warm-up: ${w.probesEchoed} of ${w.clients} first messages echoed within 30 s`);
  await lg.call('stormArm');
}

/**
 * Wait from `t0` (the broker's stop) until every client that must come back is (`allBack`) and
 * every probe is echoed; or, once all are back, until neither an echo nor a client back has come
 * for quietMs (the rest are lost); or the deadline (opts.storm.timeoutMs after t0).
 */
export async function stormWait(ctx: ScenarioContext, t0: number, allBack: (s: StormStatus) => boolean): Promise<StormStatus> {
  const { opts } = ctx;
  const deadline = t0 + opts.storm.timeoutMs * 1000;
  let s = await stormStatus(ctx, t0);
  let lastEchoes = -1;
  let lastBack = -1;
  let quietSince = nowUs();
  while (nowUs() < deadline) {
    if (allBack(s) && s.probesEchoed === s.clients) break;
    // Quiet = neither an echo nor a client back for quietMs (a resumed client's held probe goes
    // out after its replay, so the last client back must get its turn).
    if (s.probesEchoed !== lastEchoes || s.reconnected !== lastBack) {
      lastEchoes = s.probesEchoed;
      lastBack = s.reconnected;
      quietSince = nowUs();
    } else if (allBack(s) && nowUs() - quietSince > opts.storm.quietMs * 1000) break;
    await sleep(100);
    s = await stormStatus(ctx, t0);
  }
  return s;
}

/**
 * The kernel's TCP counters that show a listen queue too short for a storm (Linux; machine-wide, so
 * other work on the machine counts too): accept-queue overflows and SYN retransmissions.
 */
export function tcpCounters(): { listenOverflows: number; synRetrans: number } | undefined {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const keys = lines[0]!.split(/\s+/);
    const vals = lines[1]!.split(/\s+/).map(Number);
    const at = (k: string) => vals[keys.indexOf(k)] ?? 0;
    return { listenOverflows: at('ListenOverflows'), synRetrans: at('TCPSynRetrans') };
  } catch {
    return undefined;
  }
}

type TcpCounters = ReturnType<typeof tcpCounters>;

/**
 * The result fields both storms (single process and cluster) read off the load generator the same
 * way, and the kernel counters' change between two readings (machine-wide; null if unreadable).
 */
export function stormCounts(s: StormStatus, before: TcpCounters, after: TcpCounters) {
  return {
    reconnected: s.reconnected,
    resumed: s.resumed,
    allProbesEchoedMs: s.probesEchoed === s.clients ? round(s.lastEchoMs) : null,
    reconnectPctMs: s.reconnectPctMs,
    lost: s.clients - s.probesEchoed,
    tcpListenOverflows: before && after ? after.listenOverflows - before.listenOverflows : null,
    tcpSynRetransmits: before && after ? after.synRetrans - before.synRetrans : null,
  };
}

/**
 * The storm's moment: a window on every process but the broker, the kernel counters, then the
 * broker stopped (`t0` just before; `stoppedMs` the stop itself) and the probes sent while it is
 * down (clients whose path is down queue them).
 */
export async function brokerDown(ctx: ScenarioContext): Promise<{ win: Window; tcp0: TcpCounters; t0: number; stoppedMs: number }> {
  const { topo } = ctx;
  const win = new Window(topo.all.filter((c) => c !== topo.broker));
  await win.start();
  const tcp0 = tcpCounters();
  const t0 = nowUs();
  await topo.stopBroker();
  const stoppedMs = (nowUs() - t0) / 1000;
  await topo.loadgen.call('stormProbe');
  return { win, tcp0, t0, stoppedMs };
}

export async function storm(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { topo, opts } = ctx;
  const notes: string[] = [];
  await stormSetup(ctx, notes);
  const { win, tcp0, t0, stoppedMs } = await brokerDown(ctx);
  const holdDownMs = Number(process.env.BENCH_STORM_DOWN_MS ?? 0);
  const holdUs = t0 + holdDownMs * 1000 - nowUs();
  if (holdUs > 0) await sleep(holdUs / 1000);
  await topo.startBroker();
  const downMs = (nowUs() - t0) / 1000;
  const profiled = opts.profile ? topo.servers : [];
  await startProfiles(profiled);
  const s = await stormWait(ctx, t0, (x) => x.reconnected === x.clients);
  const tcp1 = tcpCounters();
  await stopProfiles(ctx, profiled, 'storm', notes);
  const processes = await win.stop(0);
  await topo.loadgen.call('closeAll', undefined, 60_000);
  if (s.reconnected < s.clients) notes.push(`${s.clients - s.reconnected} clients not back within ${opts.storm.timeoutMs} ms`);
  return {
    scenario: 'storm',
    params: { ...opts.storm, restart: holdDownMs > 0 ? `SIGTERM, same port, started again ≥ ${holdDownMs} ms after the stop` : 'SIGTERM, same port' },
    metrics: {
      clients: s.clients,
      brokerStoppedMs: round(stoppedMs),
      brokerDownMs: round(downMs),
      allResumed: s.resumed === s.clients && s.clients > 0,
      allReconnectedMs: s.reconnected === s.clients ? round(s.lastReconnectMs) : null,
      allResumedMs: s.lastResumeMs === null ? null : round(s.lastResumeMs),
      // The kernel counters from the stop to the end of the wait.
      ...stormCounts(s, tcp0, tcp1),
    },
    processes,
    notes,
  };
}
