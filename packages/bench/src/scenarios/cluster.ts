/**
 * The cluster targets' scenarios (issue 11 item 7): the same echo, fan-out and idle runs as every
 * target, plus what only a cluster has — Redis's share of the work, read from `INFO` at the same
 * instants the scenario takes its own readings — and the reconnect storm with a broker SIGKILL.
 *
 * - echo: Redis commands and Redis CPU per round trip over the measured window;
 * - idle: Redis `used_memory` per session, the slope between the same two populations the
 *   processes' memory is read at (20 % and all clients connected);
 * - fan-out: after the ramp, one step of a few broadcasts to the same clients at a low rate with
 *   `INFO commandstats` before and after (a quiet window of the same length first, subtracted:
 *   the brokers' heartbeats and sweeps), and `MONITOR` over the same step to split the commands
 *   the brokers sent from those run inside scripts;
 * - storm: see stormCluster.
 *
 * `--quick` runs the cluster targets at the tiny sizes (3 echo clients, 5 in fan-out, idle and
 * storm): they check that the topology works, CI stays fast, and the cluster targets' verdicts
 * say "not measured in --quick".
 */
import type { StormStatus } from '../loadgen/pool.ts';
import { round, sleep } from '../measure.ts';
import { presetOptions, type BenchOptions, type ScenarioName } from '../options.ts';
import { commandCalls, commandStats, diffCalls, redisCpuUs, RespClient, usedMemory } from '../redis-probe.ts';
import type { AgentBridgeClusterTopology } from '../targets/agent-bridge-cluster.ts';
import type { BroadcastResult } from '../agents/pacer.ts';
import { echo, latency } from './echo.ts';
import { fanout } from './fanout.ts';
import { idle } from './idle.ts';
import { brokerDown, stormCounts, stormSetup, stormWait, tcpCounters } from './storm.ts';
import type { Scenario, ScenarioContext, ScenarioResult } from './types.ts';

const cluster = (ctx: ScenarioContext) => ctx.topo as AgentBridgeClusterTopology;

/** `--quick`: the tiny sizes for the cluster targets (a check that the topology works). */
function sized(ctx: ScenarioContext): ScenarioContext {
  if (ctx.opts.mode !== 'quick') return ctx;
  const tiny = presetOptions('tiny');
  const opts: BenchOptions = { ...ctx.opts, echo: tiny.echo, latency: tiny.latency, fanout: tiny.fanout, idle: tiny.idle, storm: tiny.storm, connectConcurrency: tiny.connectConcurrency };
  return { ...ctx, opts };
}

/**
 * Run `fn` with a hook called before each of the load generator's commands (the scenario's own
 * instants: `mark` opens and closes echo's window, idle's second `connect` follows its 20 %
 * reading). The scenario's code stays the one every target runs.
 */
async function tapped<T>(ctx: ScenarioContext, hook: (cmd: string) => Promise<void>, fn: () => Promise<T>): Promise<T> {
  const lg = ctx.topo.loadgen;
  const call = lg.call.bind(lg);
  lg.call = (async (cmd: string, args?: unknown, timeoutMs?: number) => {
    await hook(cmd);
    return call(cmd, args, timeoutMs);
  }) as typeof lg.call;
  try {
    return await fn();
  } finally {
    lg.call = call;
  }
}

function redisNote(topo: AgentBridgeClusterTopology): string[] {
  return topo.privateRedis ? [] : [`Redis figures from a shared Redis (${topo.redisUrl}): INFO counts every client of it, not this cluster alone`];
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

async function echoCluster(ctx: ScenarioContext): Promise<ScenarioResult> {
  const topo = cluster(ctx);
  const redis = topo.redis!;
  const marks: { calls: Record<string, number>; usec: Record<string, number>; cpuUs: number }[] = [];
  const r = await tapped(
    ctx,
    async (cmd) => {
      if (cmd === 'mark') marks.push({ ...(await commandStats(redis)), cpuUs: await redisCpuUs(redis) });
    },
    () => echo(ctx),
  );
  const rts = Number(r.metrics.roundTrips) || 0;
  // echo() marks twice: the warm-up's end (window start) and the window's end.
  if (marks.length >= 2 && rts > 0) {
    const [a, b] = [marks[0]!, marks[1]!];
    const calls = diffCalls(a.calls, b.calls);
    r.metrics.redisCommandsPerRoundTrip = round(sum(calls) / rts, 2);
    r.metrics.redisCpuUsPerRoundTrip = round((b.cpuUs - a.cpuUs) / rts, 2);
    r.metrics.redisCommandsPerRoundTripByCommand = Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, round(v / rts, 2)]));
    // Redis's own time per round trip by command (evalsha includes the calls its scripts made).
    r.metrics.redisUsPerRoundTripByCommand = Object.fromEntries(Object.entries(diffCalls(a.usec, b.usec)).map(([k, v]) => [k, round(v / rts, 2)]));
    const serverCpu = Number(r.metrics.serverCpuUsPerRoundTrip);
    if (Number.isFinite(serverCpu)) r.metrics.serverCpuUsPerRoundTripWithRedis = round(serverCpu + (b.cpuUs - a.cpuUs) / rts, 2);
  }
  r.notes.push(...redisNote(topo));
  return r;
}

async function idleCluster(ctx: ScenarioContext): Promise<ScenarioResult> {
  const topo = cluster(ctx);
  const redis = topo.redis!;
  const reads: { cmd: string; used: number; sessions: number }[] = [];
  const sessionsKey = `${topo.prefix}:sessions`;
  const r = await tapped(
    ctx,
    async (cmd) => {
      if (cmd === 'connect' || cmd === 'closeAll') reads.push({ cmd, used: await usedMemory(redis), sessions: Number(await redis.command('ZCARD', sessionsKey)) });
    },
    () => idle(ctx),
  );
  // Calls: connect (20 %), connect (the rest, after the 20 % readings), closeAll (after the readings at 100 %).
  const at20 = reads[1];
  const atAll = reads.find((x) => x.cmd === 'closeAll');
  if (at20?.cmd === 'connect' && atAll) {
    const n = atAll.sessions - at20.sessions;
    r.metrics.redisSessions = atAll.sessions;
    r.metrics.redisUsedMemoryBytes = atAll.used;
    r.metrics.redisBytesPerSession = n > 0 ? round((atAll.used - at20.used) / n) : null;
    if (n > 0 && n < 1000) r.notes.push(`Redis bytes per session over only ${n} sessions: Redis's tables grow in steps, so small runs read high (docs/cluster.md, Sizing)`);
  } else {
    r.notes.push('Redis memory per session not measured: the idle scenario did not call connect, connect, closeAll as expected');
  }
  r.notes.push(...redisNote(topo));
  return r;
}

interface MonitorCounts {
  /** Commands the brokers sent, by name. */
  client: Record<string, number>;
  /** Commands run inside scripts, by name. */
  lua: Record<string, number>;
}

/** MONITOR on a second connection for the duration of `fn` (only this cluster's prefix counted on a shared Redis). */
async function monitored<T>(url: string, prefix: string, shared: boolean, fn: () => Promise<T>): Promise<{ result: T; counts: MonitorCounts }> {
  const counts: MonitorCounts = { client: {}, lua: {} };
  const mon = await RespClient.connect(url);
  await mon.command('MONITOR');
  // Lines: `1700000000.123456 [0 lua] "hincrby" "ab:{id}:lm" …` or `… [0 127.0.0.1:5555] "evalsha" …`.
  const re = /^\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/;
  mon.onPush = (line) => {
    const m = re.exec(line);
    if (!m) return;
    if (shared && !line.includes(prefix)) return;
    const into = m[1] === 'lua' ? counts.lua : counts.client;
    const cmd = m[2]!.toLowerCase();
    into[cmd] = (into[cmd] ?? 0) + 1;
  };
  try {
    const result = await fn();
    await sleep(200); // the last lines
    return { result, counts };
  } finally {
    mon.close();
  }
}

async function fanoutCluster(ctx: ScenarioContext): Promise<ScenarioResult> {
  const topo = cluster(ctx);
  const redis = topo.redis!;
  const r = await fanout(ctx);
  // The commands-per-broadcast step: the same number of clients, a few broadcasts at a low rate.
  const p = ctx.opts.fanout;
  const lg = topo.loadgen;
  const conn = await lg.call<{ connected: number }>('connect', { n: p.clients, concurrency: ctx.opts.connectConcurrency, deadlineMs: 120_000 }, 150_000);
  await sleep(500);
  const count = async () => (await lg.call<{ total: number }>('broadcastCounts')).total;
  const broadcasts = ctx.opts.mode === 'full' ? 10 : 4;
  const stepMs = 1000;
  const sessions = Number(await redis.command('ZCARD', `${topo.prefix}:sessions`));
  // Background: what the brokers send with nothing to do (heartbeats, sweeps, the 5 s log checks).
  const tq = performance.now();
  const { result: quiet, counts: quietCounts } = await monitored(topo.redisUrl, topo.prefix, !topo.privateRedis, async () => {
    const q0 = await commandCalls(redis);
    await sleep(stepMs + 500);
    return diffCalls(q0, await commandCalls(redis));
  });
  const quietMs = performance.now() - tq;
  const before = await count();
  const c0 = await commandCalls(redis);
  const t0 = performance.now();
  const { result: sent, counts } = await monitored(topo.redisUrl, topo.prefix, !topo.privateRedis, async () => {
    const s = await topo.agent.call<BroadcastResult>('broadcast', { rate: broadcasts, durationMs: stepMs, start: 1_000_000_000, padding: p.size }, 20_000);
    const want = before + s.sent * conn.connected;
    const deadline = performance.now() + 10_000;
    while ((await count()) < want && performance.now() < deadline) await sleep(20);
    await sleep(300);
    return s;
  });
  const stepMsReal = performance.now() - t0;
  const calls = diffCalls(c0, await commandCalls(redis));
  const delivered = (await count()) - before;
  await lg.call('closeAll', undefined, 60_000);
  // Subtract the background for the step's length.
  const scale = stepMsReal / quietMs;
  const minus = (a: Record<string, number>, b: Record<string, number>) => {
    const o: Record<string, number> = {};
    // The harness's own INFO and MONITOR are not the cluster's.
    for (const [k, v] of Object.entries(a)) if (k !== 'info' && k !== 'monitor') o[k] = Math.max(0, v - (b[k] ?? 0) * scale);
    return o;
  };
  const net = minus(calls, quiet);
  const brokerNet = minus(counts.client, quietCounts.client);
  const scriptNet = minus(counts.lua, quietCounts.lua);
  const n = sent.sent || 1;
  const per = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v / n, 1)]).filter(([, v]) => (v as number) > 0));
  const clientCmds = sum(brokerNet);
  const appendsPerBroadcast = round((net.evalsha ?? 0) / n, 1);
  r.metrics.commandsStep = {
    broadcasts: sent.sent,
    sessions,
    clients: conn.connected,
    brokers: topo.brokers.length,
    delivered,
    lostInStep: sent.sent * conn.connected - delivered,
  };
  // Every command Redis ran for one broadcast (INFO commandstats, background subtracted), inside scripts included.
  r.metrics.redisCommandsPerBroadcast = round(sum(net) / n, 1);
  r.metrics.redisCommandsPerBroadcastByCommand = per(net);
  // What the brokers sent (MONITOR: not inside a script), per broadcast, background subtracted likewise.
  r.metrics.redisBrokerCommandsPerBroadcast = round(clientCmds / n, 1);
  r.metrics.redisBrokerCommandsPerBroadcastByCommand = per(brokerNet);
  r.metrics.redisScriptCommandsPerBroadcastByCommand = per(scriptNet);
  r.metrics.redisSessionsAtBroadcast = sessions;
  r.metrics.redisAppendsPerBroadcast = appendsPerBroadcast;
  // The budget: brokers + a small constant beyond the per-session appends.
  r.metrics.redisBrokerCommandsBeyondAppends = round(clientCmds / n - sessions, 1);
  r.notes.push(
    `commands per broadcast: ${sent.sent} broadcasts in ${stepMs} ms to ${conn.connected} connected clients (${sessions} sessions in ${topo.prefix}:sessions, detached ones of earlier scenarios included: a broadcast is appended to every session), the background of a ${Math.round(quietMs)} ms quiet window just before (heartbeats, sweeps) subtracted from both INFO commandstats and the MONITOR counts`,
  );
  r.notes.push(...redisNote(topo));
  return r;
}

/**
 * Reconnect storm, cluster: N clients (each with one echoed message behind it, so every session
 * has a seq), broker-1 SIGKILLed, every client sends one probe during the failover, broker-1 is
 * started again once everything is measured. Affected clients are those whose session
 * broker-1 held (`<prefix>:node:<broker-1 run>:clients` in Redis, read just before the kill):
 * each must come back (`bridge.reconnected`) with `resumed:true`; every client's probe must be
 * echoed (0 lost).
 */
async function stormCluster(ctx: ScenarioContext): Promise<ScenarioResult> {
  const topo = cluster(ctx);
  const { opts } = ctx;
  const redis = topo.redis!;
  const lg = topo.loadgen;
  const notes: string[] = [];
  await stormSetup(ctx, notes);
  // Which sessions broker-1 holds (its current run: NODE_ID plus a per-start suffix).
  const runs = ((await redis.command('ZRANGE', `${topo.prefix}:nodes`, 0, -1)) as string[]).filter((m) => /^broker-1[^0-9A-Za-z]/.test(m));
  let affected = 0;
  for (const run of runs) affected += Number(await redis.command('SCARD', `${topo.prefix}:node:${run}:clients`));
  const { win, tcp0, t0, stoppedMs: killMs } = await brokerDown(ctx);
  const allBack = (x: StormStatus) => x.reconnected >= affected;
  const s = await stormWait(ctx, t0, allBack);
  const tcp1 = tcpCounters();
  const processes = await win.stop(0);
  // Whole again for what follows (a SIGKILLed broker restarted in place takes over its earlier run).
  await topo.startBroker();
  await lg.call('closeAll', undefined, 60_000);
  if (!allBack(s)) notes.push(`${affected - s.reconnected} of the ${affected} clients on broker-1 not back within ${opts.storm.timeoutMs} ms`);
  if (s.reconnected > affected) notes.push(`${s.reconnected} clients reconnected, more than the ${affected} broker-1 held at the kill`);
  if (runs.length !== 1) notes.push(`broker-1 runs in ${topo.prefix}:nodes: ${runs.join(', ') || 'none'}`);
  const everyResumed = s.resumed >= affected && s.resumed === s.reconnected;
  return {
    scenario: 'storm',
    params: { ...opts.storm, restart: 'broker-1 SIGKILL (no restart until measured); clients fail over to broker-2' },
    metrics: {
      clients: s.clients,
      affected,
      brokerDownMs: round(killMs),
      allResumed: everyResumed && affected > 0,
      allReconnectedMs: allBack(s) ? round(s.lastReconnectMs) : null,
      allResumedMs: everyResumed && allBack(s) ? round(s.lastReconnectMs) : null,
      ...stormCounts(s, tcp0, tcp1),
    },
    processes,
    notes,
  };
}

const RUNNERS: Partial<Record<ScenarioName, Scenario>> = {
  echo: echoCluster,
  idle: idleCluster,
  fanout: fanoutCluster,
  storm: stormCluster,
};

/** The runner for a cluster target's scenario, at the tiny sizes in `--quick`. */
export function clusterRunner(scenario: ScenarioName): Scenario | undefined {
  const run = scenario === 'latency' ? latency : RUNNERS[scenario];
  return run && ((ctx) => run(sized(ctx)));
}
