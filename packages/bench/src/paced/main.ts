/**
 * Paced echo: a FIXED offered rate of round trips (not the closed loop of `pnpm bench` echo), and
 * each process's CPU per round trip read from /proc/<pid>/stat over the window. At a fixed rate
 * both variants of a comparison do the same work with the same frames per read, so the CPU
 * figures compare code, not luck in how turns line up (docs/performance.md, §8 section). With
 * `--trace-gc-nvp` in a process's flags it also reports that process's GC: pause time per second,
 * scavenges, KB promoted to the old generation per scavenge, mark-compacts.
 *
 *   node --import tsx packages/bench/src/paced/main.ts                       # 8,000 rt/s, 10 s
 *   RATE=5000 SECONDS=5 ACKS=off IDS=0 node --import tsx packages/bench/src/paced/main.ts
 *   BOTH_ENV=TRACE=off AGENT_FLAGS=--trace-gc-nvp node --import tsx packages/bench/src/paced/main.ts
 *   BOTH_ENV=REDIS_URL=redis://127.0.0.1:6379/5,CLUSTER_PREFIX=paced1 BROKER_FLAGS=--trace-gc-nvp …
 *   BROKERS=2 WEBS=2 BOTH_ENV=REDIS_URL=redis://127.0.0.1:6399/0,CLUSTER_PREFIX=p2 …   # the bench's cluster
 *
 * Settings: RATE (round trips/s offered), CLIENTS (50), SECONDS (10, after a 3-s warm-up), IDS
 * (0: messages without ids), ACKS (off: the agent without §8 acks), BOTH_ENV / BROKER_ENV / WEB_ENV
 * (k=v,k=v for the services), BROKER_FLAGS / WEB_FLAGS / AGENT_FLAGS (node flags), SCRAPE (a regex:
 * the brokers' and web servers' /metrics lines it matches, at the end), BROKERS / WEBS
 * (1 each; more need REDIS_URL in BOTH_ENV: the bench's cluster topology — every web server lists
 * every broker, clients spread over the web servers, the agent on the last broker — and Redis's own
 * CPU per round trip from its INFO; use a Redis of the run's own so that figure is this run's).
 * The services and the agent run bundled as they ship (bundle.ts), BENCH_SOURCE=1 through tsx.
 * Loopback only, every loop bounded; the children are killed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { bundled, FROM_SOURCE } from '../bundle.ts';
import { info, redisCpuUs, RespClient } from '../redis-probe.ts';
import { benchEnv } from '../targets/agent-bridge.ts';

const RATE = Number(process.env.RATE ?? 8000);
const CLIENTS = Number(process.env.CLIENTS ?? 50);
const SECONDS = Number(process.env.SECONDS ?? 10);
const IDS = process.env.IDS !== '0';
const BROKERS = Math.max(1, Number(process.env.BROKERS ?? 1));
const WEBS = Math.max(1, Number(process.env.WEBS ?? 1));
const SCRAPE = process.env.SCRAPE ? new RegExp(process.env.SCRAPE) : undefined;
const pairs = (name: string): Record<string, string> =>
  Object.fromEntries((process.env[name] ?? '').split(',').filter(Boolean).map((kv) => kv.split('=', 2) as [string, string]));
const flags = (name: string): string[] => (process.env[name] ?? '').split(' ').filter(Boolean);
const token = randomBytes(8).toString('hex');
// The settings the bench gives every Agent Bridge target, snapshot off (a paced run restarts nothing).
const base: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  ...benchEnv(token, CLIENTS),
  STATE_SNAPSHOT_PATH: 'off',
  ...pairs('BOTH_ENV'),
};
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const LISTENING = /listening[^\n]*?http:\/\/127\.0\.0\.1:(\d+)/;

interface Started {
  p: ChildProcess;
  m: RegExpMatchArray;
  gc: string[];
}
const kids: ChildProcess[] = [];
// Ended on success, error and a signal alike: no broker, web server or agent outlives the tool.
const killAll = (): void => {
  for (const k of kids) k.kill('SIGKILL');
};
process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** As `pnpm bench` runs them (bundle.ts): the bundle `pnpm build` would make; BENCH_SOURCE=1: tsx. */
function start(entry: string, env: Record<string, string>, marker: RegExp, nodeFlags: string[]): Promise<Started> {
  const args = FROM_SOURCE ? ['--import', 'tsx', entry] : [bundled(root, path.resolve(root, entry), [])];
  const p = spawn(process.execPath, [...nodeFlags, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  kids.push(p);
  const gc: string[] = [];
  p.stdout!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.includes('pause=')) gc.push(line);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const on = (d: Buffer): void => {
      out += d.toString();
      const m = out.match(marker);
      if (m) {
        p.stdout!.off('data', on);
        resolve({ p, m, gc });
      }
    };
    p.stdout!.on('data', on);
    p.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    p.once('exit', (code) => reject(new Error(`${entry} exited (${code}): ${out.slice(-500)}`)));
  });
}

/** utime + stime of a process in µs (100 Hz clock ticks). */
function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** Read and write syscalls of a process so far (/proc/<pid>/io: syscr + syscw). */
function syscalls(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return Number(/syscr: (\d+)/.exec(io)![1]) + Number(/syscw: (\d+)/.exec(io)![1]);
}

function gcSummary(lines: string[]): string {
  const pause = lines.reduce((s, l) => s + Number(/pause=([\d.]+)/.exec(l)?.[1] ?? 0), 0);
  const promoted = lines.filter((l) => l.includes('gc=s')).map((l) => Number(/promoted=(\d+)/.exec(l)?.[1] ?? 0));
  const marks = lines.filter((l) => /gc=m[cs]/.test(l)).length;
  const avg = promoted.length ? promoted.reduce((a, b) => a + b, 0) / promoted.length / 1024 : 0;
  return `gc pause ${(pause / SECONDS).toFixed(1)} ms/s, ${promoted.length} scavenges, ${avg.toFixed(0)} KB promoted per scavenge, ${marks} mark-compacts`;
}

try {
  const brokers: Started[] = [];
  for (let i = 0; i < BROKERS; i++) {
    brokers.push(await start('packages/websocket-server/src/main.ts', { ...base, WEBSOCKET_SERVER_ADDR: '127.0.0.1:0', ...pairs('BROKER_ENV') }, LISTENING, flags('BROKER_FLAGS')));
  }
  const brokerUrls = brokers.map((b) => `ws://127.0.0.1:${b.m[1]!}`);
  const webs: Started[] = [];
  for (let i = 0; i < WEBS; i++) {
    webs.push(
      await start(
        'packages/web-server/src/main.ts',
        { ...base, WEB_SERVER_ADDR: '127.0.0.1:0', BROKER_URL: brokerUrls.join(','), ...pairs('WEB_ENV') },
        LISTENING,
        flags('WEB_FLAGS'),
      ),
    );
  }
  const agent = await start(
    'packages/bench/src/paced/echo-agent.ts',
    { ...base, PACED_BROKER: brokerUrls.at(-1)!, PACED_ACKS: process.env.ACKS ?? 'on' },
    /AGENT READY/,
    flags('AGENT_FLAGS'),
  );
  const redisUrl = base.REDIS_URL;
  const redis = redisUrl ? await RespClient.connect(redisUrl) : undefined;
  let echoed = 0;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const webPort = webs[i % WEBS]!.m[1]!;
    const s = (await (await fetch(`http://127.0.0.1:${webPort}/api/clients`, { method: 'POST' })).json()) as { clientId: string; token: string };
    const ws = new WebSocket(`ws://127.0.0.1:${webPort}/ws/${s.clientId}?token=${s.token}${IDS ? '&accepted=inline' : ''}`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.on('message', function first(d: Buffer) {
        if (!d.toString().startsWith('{"type":"welcome"')) return;
        ws.off('message', first);
        resolve();
      });
    });
    ws.on('message', (d: Buffer) => {
      if (d.toString('latin1', 0, 17) === '{"type":"message"') echoed++;
    });
    sockets.push(ws);
  }
  const data = JSON.stringify('x'.repeat(240));
  const tickMs = 5;
  let owed = 0;
  let n = 0;
  const pacer = setInterval(() => {
    owed += (RATE * tickMs) / 1000;
    for (; owed >= 1; owed--, n++) {
      const ws = sockets[n % CLIENTS]!;
      ws.send(IDS ? `{"type":"message","id":"c-${n}","data":${data}}` : `{"type":"message","data":${data}}`);
    }
  }, tickMs);
  await new Promise((r) => setTimeout(r, 3000));
  const procs: Record<string, number> = { load: process.pid };
  const named = (list: Started[], name: string): [string, Started][] => list.map((x, i) => [list.length > 1 ? `${name}-${i + 1}` : name, x]);
  const services = [...named(brokers, 'broker'), ...named(webs, 'web'), ['agent', agent] as [string, Started]];
  for (const [name, x] of services) procs[name] = x.p.pid!;
  const before = Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, cpuUs(pid)]));
  const redisBefore = redis ? await redisCpuUs(redis) : 0;
  // Redis's own pid, for its syscalls: only a Redis on this machine (elsewhere the figure is left out).
  const redisLocal = redisUrl !== undefined && /^redis:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(redisUrl);
  const redisPid = redis && redisLocal ? Number((await info(redis, 'server')).process_id ?? '') : 0;
  const sysPids: Record<string, number> = redisPid && existsSync(`/proc/${redisPid}/io`) ? { ...procs, redis: redisPid } : procs;
  const sysBefore = Object.fromEntries(Object.entries(sysPids).map(([k, pid]) => [k, syscalls(pid)]));
  for (const [, x] of services) x.gc.length = 0;
  const echoedBefore = echoed;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const rts = echoed - echoedBefore;
  const secs = (performance.now() - t0) / 1000;
  const sys = Object.fromEntries(Object.entries(sysPids).map(([k, pid]) => [k, +((syscalls(pid) - sysBefore[k]!) / rts).toFixed(2)]));
  const per: Record<string, number> = Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, +((cpuUs(pid) - before[k]!) / rts).toFixed(2)]));
  if (redis) per.redis = +(((await redisCpuUs(redis)) - redisBefore) / rts).toFixed(2);
  const all = +Object.values(per).reduce((a, b) => a + b, 0).toFixed(2);
  clearInterval(pacer);
  console.log(JSON.stringify({ roundTripsPerSec: Math.round(rts / secs), cpuUsPerRoundTrip: per, allCpuUsPerRoundTrip: all, readWriteSyscallsPerRoundTrip: sys }));
  for (const [name, x] of services) if (x.gc.length) console.log(`${name}: ${gcSummary(x.gc)}`);
  redis?.close();
  if (SCRAPE) {
    // Counters of the whole run (warm-up included), per service: e.g. SCRAPE='frames_(in|out)_total'.
    for (const [name, x] of services) {
      if (x === agent) continue;
      const text = await (await fetch(`http://127.0.0.1:${x.m[1]!}/metrics`)).text();
      for (const line of text.split('\n')) if (!line.startsWith('#') && SCRAPE.test(line)) console.log(`${name} ${line}`);
    }
  }
  for (const ws of sockets) ws.terminate();
} finally {
  killAll();
}
process.exit(0);
