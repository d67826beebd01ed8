// `pnpm cluster` (scripts/cluster.mjs), spawned for real on the machine's Redis under a prefix of
// its own: two brokers and two web servers as one bridge with the demo agent, the URLs printed,
// health and readiness of all four, a client registered at one web server talking to the demo
// agent through the other; SIGTERM stops every process it started. Before anything starts: Redis
// not answering PING and a busy port are each one line and exit 1.
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { REPO_ROOT } from '@agent-bridge/common';
import { SHARED_REDIS_URL, connectBrowser, deletePrefixKeys, freePort, registerClient } from '@agent-bridge/testkit';

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
const prefix = `tcs${randomBytes(5).toString('hex')}`;
const redisUrl = `${SHARED_REDIS_URL}/0`;
const started: ChildProcess[] = [];
let staticDir: string;

beforeAll(() => {
  staticDir = mkdtempSync(path.join(os.tmpdir(), 'agent-bridge-cluster-static-'));
});
afterAll(async () => {
  // A test that failed midway leaves the script running: stop it as a user would (its children
  // run in their own process groups and write to Redis as they stop), then delete the prefix.
  for (const c of started) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 8000))]);
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  rmSync(staticDir, { recursive: true, force: true });
  await deletePrefixKeys(redisUrl, prefix);
});

interface Run {
  child: ChildProcess;
  output: () => string;
  until: (re: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>;
  exit: Promise<number | null>;
}

function runCluster(env: Record<string, string>, args: string[] = []): Run {
  const child = spawn(process.execPath, ['scripts/cluster.mjs', ...args], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      RATE_LIMIT_HTTP_PER_MIN: '10000',
      STATIC_ASSETS_PATH: staticDir,
      STATE_SNAPSHOT_PATH: 'off',
      REDIS_URL: redisUrl,
      CLUSTER_PREFIX: prefix,
      BROKER_1_ADDR: '127.0.0.1:0',
      BROKER_2_ADDR: '127.0.0.1:0',
      WEB_1_ADDR: '127.0.0.1:0',
      WEB_2_ADDR: '127.0.0.1:0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let out = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => strip(out),
    exit,
    async until(re, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = re.exec(strip(out));
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before ${re}:\n${strip(out)}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}:\n${strip(out)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
  };
}

/** Every live process below `pid` (by parent link), found through /proc. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) if (parent === p) (out.push(child), walk(child));
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

async function json(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('pnpm cluster: two brokers and two web servers on Redis with the demo agent; a client of web-1 talks through web-2; SIGTERM stops every child', async () => {
  const run = runCluster({}, ['--source']);
  const up = await run.until(
    /web-1 +(http:\/\/\S+).*\n +web-2 +(http:\/\/\S+).*\n +broker-1 +(ws:\/\/\S+) +pid (\d+)\n +broker-2 +(ws:\/\/\S+) +pid (\d+)\n +demo agent: connected/,
    45_000,
  );
  const [, web1, web2, broker1, , broker2] = up as unknown as string[];
  expect(run.output()).toContain(`CLUSTER_PREFIX=${prefix}`);

  for (const [url, nodeId] of [
    [web1!, 'web-1'],
    [web2!, 'web-2'],
  ] as const) {
    const health = await json(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', nodeId });
    await expect.poll(async () => (await json(`${url}/readyz`)).status, { timeout: 10_000 }).toBe(200);
  }
  for (const [url, nodeId] of [
    [broker1!, 'broker-1'],
    [broker2!, 'broker-2'],
  ] as const) {
    const http = url.replace(/^ws/, 'http');
    const health = await json(`${http}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', cluster: true, nodeId });
    expect((await json(`${http}/readyz`)).status).toBe(200);
  }
  // One cluster: both brokers report the same epoch.
  const epochs = await Promise.all([broker1!, broker2!].map(async (u) => (await json(`${u.replace(/^ws/, 'http')}/healthz`)).body.epoch));
  expect(epochs[0]).toBeTruthy();
  expect(epochs[1]).toBe(epochs[0]);

  // Registered at web-1, connected through web-2: the demo agent answers `help`.
  const session = await registerClient(web1!);
  const browser = await connectBrowser(web2!, session);
  try {
    const welcome = await browser.next('welcome', 10_000);
    expect(welcome).toMatchObject({ clientId: session.clientId, epoch: epochs[0] });
    browser.send({ type: 'message', id: 'c-1', data: { text: 'help' } });
    const answer = await browser.next((f) => f.type === 'message' && f.from === 'default', 10_000);
    expect(JSON.stringify(answer.data)).toContain('commands:');
  } finally {
    browser.close(1000);
  }

  const tree = descendants(run.child.pid!);
  expect(tree.length).toBeGreaterThanOrEqual(5);
  run.child.kill('SIGTERM');
  const code = await Promise.race([run.exit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 8000))]);
  expect(code, run.output()).toBe(0);
  const deadline = Date.now() + 4000;
  while (tree.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(tree.filter(alive), 'still running after SIGTERM').toEqual([]);
  expect(run.output().trim().split('\n').at(-1)).toBe('Agent Bridge cluster stopped (SIGTERM).');
  expect(run.output()).not.toMatch(/Force killing|ERR_PNPM|ELIFECYCLE/);
}, 60_000);

test('Redis not answering PING: one line saying how to start it, exit 1, nothing started', async () => {
  const port = await freePort();
  const run = runCluster({ REDIS_URL: `redis://127.0.0.1:${port}/0` });
  expect(await run.exit).toBe(1);
  const lines = run.output().trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`redis://127.0.0.1:${port}/0 does not answer PING`);
  expect(lines[0]).toContain(`redis-server --port ${port}`);
});

test('a busy port: one line naming it and its setting, exit 1, nothing started', async () => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  try {
    const run = runCluster({ WEB_2_ADDR: `127.0.0.1:${port}` });
    expect(await run.exit).toBe(1);
    const lines = run.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`port ${port} (WEB_2_ADDR=127.0.0.1:${port}) is already in use`);
  } finally {
    await new Promise((r) => srv.close(r));
  }
});
