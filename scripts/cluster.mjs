// `pnpm cluster`: a two-broker, two-web-server bridge on one machine, on Redis (docs/cluster.md):
// broker-1 and broker-2, web-1 and web-2 (each with BROKER_URL listing both brokers), and the
// demo agent connected with both broker URLs, all under one CLUSTER_PREFIX. From the build
// (dist/) when there is one, else from source (tsx); `--source` forces source.
//
// Checked before anything starts: Redis answers PING at REDIS_URL (else one line saying how to
// start it, exit 1), and every port is free (else one line naming it, exit 1). Services start in
// order, each once the one before listens. A service that dies (try `kill -9` on a broker) is
// reported in one line and the others go on: that is the point of a cluster. SIGINT, SIGTERM or
// SIGHUP stop every child (scripts/lib/supervisor.mjs) with one line on stderr.
//
// Settings (environment or .env): REDIS_URL (default redis://127.0.0.1:6379/0), CLUSTER_PREFIX
// (default ab), BROKER_1_ADDR / BROKER_2_ADDR (127.0.0.1:8080 / :8090), WEB_1_ADDR / WEB_2_ADDR
// (127.0.0.1:8081 / :8091); port 0 = any free port (the URLs printed are the real ones).
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { ROOT, setting, splitAddr } from './lib/settings.mjs';
import { busyAddrsLine } from './lib/ports.mjs';
import { Supervisor, waitForLine } from './lib/supervisor.mjs';
import { SERVICES } from './services.mjs';

const COMMAND = 'pnpm cluster';
const DEFAULTS = {
  REDIS_URL: 'redis://127.0.0.1:6379/0',
  CLUSTER_PREFIX: 'ab',
  BROKER_1_ADDR: '127.0.0.1:8080',
  BROKER_2_ADDR: '127.0.0.1:8090',
  WEB_1_ADDR: '127.0.0.1:8081',
  WEB_2_ADDR: '127.0.0.1:8091',
};
const get = (name) => setting(name) ?? DEFAULTS[name];

const colours = { 'broker-1': 35, 'broker-2': 95, 'web-1': 36, 'web-2': 96, agent: 33 };
const sup = new Supervisor({ name: COMMAND });
sup.handleSignals((signal) => `Agent Bridge cluster stopped (${signal}).`);

/** redis://user:pass@host:port/db without the password, for messages. */
function redactRedisUrl(u) {
  try {
    const url = new URL(u);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return u;
  }
}

/** One RESP command. */
const resp = (...args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/**
 * Whether Redis at `redisUrl` answers PING (AUTH and SELECT first when the URL has them).
 * Resolves undefined when it does, else a short reason.
 */
function pingRedis(redisUrl, timeoutMs = 2000) {
  let url;
  try {
    url = new URL(redisUrl);
  } catch {
    return Promise.resolve('not a URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return Promise.resolve('not a redis:// or rediss:// URL');
  const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(url.port || 6379);
  const cmds = [];
  if (url.password) cmds.push(url.username ? resp('AUTH', decodeURIComponent(url.username), decodeURIComponent(url.password)) : resp('AUTH', decodeURIComponent(url.password)));
  const db = url.pathname.replace(/^\//, '');
  if (db) cmds.push(resp('SELECT', db));
  cmds.push(resp('PING'));
  return new Promise((resolve) => {
    const socket = url.protocol === 'rediss:' ? tls.connect({ host, port, servername: host }) : net.connect({ host, port });
    let buf = '';
    let replies = 0;
    const done = (reason) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => done('no answer'), timeoutMs);
    socket.once(url.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => socket.write(cmds.join('')));
    socket.on('error', (err) => done(err.code ?? err.message));
    socket.on('data', (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (line.startsWith('-')) return done(line.slice(1).split(' ')[0]);
        replies += 1;
        if (replies === cmds.length) return done(line === '+PONG' ? undefined : `answered ${line}`);
      }
    });
  });
}

/** The URL in a service's `listening on …` line (JSON or pretty). */
function listeningUrl(line) {
  return /listening on (https?:\/\/[^\s"\\]+)/.exec(line.replace(/\x1b\[[0-9;]*m/g, ''))?.[1];
}

async function main() {
  const redisUrl = get('REDIS_URL');
  const prefix = get('CLUSTER_PREFIX');
  const addrs = ['BROKER_1_ADDR', 'BROKER_2_ADDR', 'WEB_1_ADDR', 'WEB_2_ADDR'].map((n) => [n, get(n)]);
  for (const [name, value] of addrs) {
    const { port } = splitAddr(value);
    if (!/:\d+$/.test(value) || !Number.isInteger(port) || port > 65535) return sup.fail(`${COMMAND}: ${name}=${value} is not host:port`);
  }
  const notAnswering = await pingRedis(redisUrl);
  if (notAnswering !== undefined) {
    const { port } = (() => {
      try {
        return { port: new URL(redisUrl).port || '6379' };
      } catch {
        return { port: '6379' };
      }
    })();
    return sup.fail(
      `${COMMAND}: Redis at ${redactRedisUrl(redisUrl)} does not answer PING (${notAnswering}); start one with \`redis-server --port ${port} --save '' --appendonly no\` (Debian: apt-get install -y redis-server), or set REDIS_URL`,
    );
  }
  const busy = await busyAddrsLine(addrs, COMMAND, 100);
  if (busy) return sup.fail(busy);

  const fromBuild = !process.argv.includes('--source') && Object.values(SERVICES).every((s) => existsSync(path.join(ROOT, s.out)));
  if (!fromBuild && !process.argv.includes('--source')) process.stdout.write(`${COMMAND}: no build in dist/ (run \`pnpm build\`): running from source\n`);
  const staticDir = path.resolve(ROOT, setting('STATIC_ASSETS_PATH'));
  if (!existsSync(path.join(staticDir, 'index.html'))) process.stdout.write(`${COMMAND}: the app is not built (${staticDir}): run \`pnpm build\` for the web pages\n`);

  const pretty = (process.env.LOG_FORMAT ?? setting('LOG_FORMAT')) !== 'json';
  const common = { ...(pretty ? { FORCE_COLOR: '1' } : {}), ...process.env, LOG_FORMAT: pretty ? 'pretty' : 'json', REDIS_URL: redisUrl, CLUSTER_PREFIX: prefix };
  const [b1, b2, w1, w2] = addrs.map(([, v]) => v);

  const start = async (name, service, env, ready) => {
    const tag = pretty ? `\x1b[${colours[name]}m${name.padEnd(8)}\x1b[0m│ ` : `${name.padEnd(8)}│ `;
    const args = fromBuild ? ['--enable-source-maps', SERVICES[service].out] : ['--import', 'tsx', SERVICES[service].entry];
    const child = sup.spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...common, ...env },
      onLine: (line, stream) => (stream === 'stderr' ? process.stderr : process.stdout).write(`${tag}${line}\n`),
    });
    child.on('exit', (code, signal) => {
      if (sup.stopping) return;
      const left = [...sup.children].length;
      if (left === 0) return void sup.fail(`${COMMAND}: ${name} exited (${code ?? signal}) and nothing is left running`, code || 1);
      process.stdout.write(`${COMMAND}: ${name} exited (${code ?? signal}); the others go on (Ctrl-C stops them)\n`);
    });
    const line = await waitForLine(child, ready, /cannot start|EADDRINUSE/i, name).catch((err) => {
      throw new Error(`${name} did not start: ${err.message.replace(/\x1b\[[0-9;]*m/g, '').trim()}`);
    });
    return { child, line };
  };

  const broker1 = await start('broker-1', 'broker', { NODE_ID: 'broker-1', WEBSOCKET_SERVER_ADDR: b1 }, /listening/);
  if (sup.stopping) return;
  const broker2 = await start('broker-2', 'broker', { NODE_ID: 'broker-2', WEBSOCKET_SERVER_ADDR: b2 }, /listening/);
  if (sup.stopping) return;
  const brokerHttp = [broker1, broker2].map((b) => listeningUrl(b.line));
  const brokerWs = brokerHttp.map((u) => u.replace(/^http/, 'ws'));
  const brokerList = brokerWs.join(',');
  const web = [];
  for (const [name, addr] of [
    ['web-1', w1],
    ['web-2', w2],
  ]) {
    const { host, port } = splitAddr(addr);
    // On one machine each web server is its own origin (the address a browser opens); behind one
    // load balancer all of them would share its PUBLIC_ORIGIN (docs/cluster.md).
    const origin = port === 0 ? {} : { PUBLIC_ORIGIN: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
    web.push(await start(name, 'web', { NODE_ID: name, WEB_SERVER_ADDR: addr, BROKER_URL: brokerList, ...origin }, /listening/));
    if (sup.stopping) return;
  }
  const webUrls = web.map((w) => listeningUrl(w.line));
  let agentLine = 'demo agent: connected with both broker URLs';
  await start('agent', 'agent', { BROKER_URL: brokerList }, /connected/).catch((err) => {
    // The bridge works without the demo agent; say why it is missing, and go on.
    agentLine = err.message;
  });
  if (sup.stopping) return;
  const bold = (s) => (pretty ? `\x1b[1m${s}\x1b[0m` : s);
  process.stdout.write(
    [
      '',
      `  ${bold('Agent Bridge cluster is up')} (Redis ${redactRedisUrl(redisUrl)}, CLUSTER_PREFIX=${prefix})`,
      `    web-1     ${webUrls[0]}   open this one,`,
      `    web-2     ${webUrls[1]}   and this one in another tab`,
      `    broker-1  ${brokerWs[0]}   pid ${broker1.child.pid}`,
      `    broker-2  ${brokerWs[1]}   pid ${broker2.child.pid}`,
      `    ${agentLine}`,
      `  Try: kill -9 ${broker1.child.pid} (broker-1), then chat on: its clients continue on broker-2.`,
      '',
      '',
    ].join('\n'),
  );
}

main().catch((err) => sup.fail(`${COMMAND}: ${err.message}`));
