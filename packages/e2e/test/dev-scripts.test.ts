// The repository's own scripts, spawned for real: `pnpm dev` / `pnpm start` refuse a busy port
// with one line (and start nothing), and SIGTERM / SIGINT / SIGHUP stop every process they
// started, quickly, with one calm line and none of pnpm's or tsx's alarms.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '@agent-bridge/common';

const ALARMS = /Force killing|ERR_PNPM|ELIFECYCLE|Command failed|Killing process/;
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
const started: ChildProcess[] = [];
let staticDir: string;

beforeAll(() => {
  staticDir = mkdtempSync(path.join(os.tmpdir(), 'agent-bridge-dev-static-'));
  // `pnpm start` runs the bundles; build them if this checkout has none yet (esbuild, ~2 s).
  if (!existsSync(path.join(REPO_ROOT, 'dist/broker.mjs')) || !existsSync(path.join(REPO_ROOT, 'dist/demo-agent.mjs'))) {
    execFileSync(process.execPath, ['scripts/build.mjs', 'services'], { cwd: REPO_ROOT, stdio: 'pipe' });
  }
});
afterAll(() => {
  for (const c of started) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(staticDir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A port held by someone else for the test's duration. */
async function busyPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, release: () => new Promise((r) => srv.close(() => r())) };
}

interface Run {
  child: ChildProcess;
  output: () => string;
  until: (re: RegExp, timeoutMs?: number) => Promise<void>;
  exit: Promise<number | null>;
}

function runScript(cmd: string, args: string[], env: Record<string, string>): Run {
  const child = spawn(cmd, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', RATE_LIMIT_HTTP_PER_MIN: '10000', STATIC_ASSETS_PATH: staticDir, STATE_SNAPSHOT_PATH: 'off', ...env },
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
    async until(re, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!re.test(strip(out))) {
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
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
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
    // A zombie is dead for our purposes (its parent has not reaped it yet).
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Signal `run`, then: it exits 0 within `withinMs`, every process it had started is gone, one calm line. */
async function expectCleanStop(run: Run, signal: NodeJS.Signals, withinMs = 6000): Promise<void> {
  const tree = descendants(run.child.pid!);
  expect(tree.length).toBeGreaterThan(1);
  const t0 = Date.now();
  run.child.kill(signal);
  const code = await Promise.race([run.exit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), withinMs))]);
  expect(code, run.output()).toBe(0);
  expect(Date.now() - t0).toBeLessThan(withinMs);
  // SIGHUP kills pnpm itself; the script notices its parent is gone and stops everything.
  const deadline = Date.now() + 4000;
  while (tree.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(tree.filter(alive), `still running after ${signal}`).toEqual([]);
  const out = run.output();
  expect(out).not.toMatch(ALARMS);
  return undefined;
}

describe('a busy port: one line naming it and the setting, exit non-zero, nothing started', () => {
  test('pnpm dev with the broker port taken', async () => {
    const busy = await busyPort();
    try {
      const run = runScript('pnpm', ['dev'], { WEBSOCKET_SERVER_ADDR: `127.0.0.1:${busy.port}`, WEB_SERVER_ADDR: `127.0.0.1:${await freePort()}` });
      expect(await run.exit).not.toBe(0);
      const lines = run.output().split('\n').filter((l) => l.includes(String(busy.port)));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/already in use/);
      expect(lines[0]).toContain('WEBSOCKET_SERVER_ADDR');
      // Nothing was started: no service, no demo agent joining whoever holds the port.
      expect(run.output()).not.toMatch(/agent +│|broker +│|web +│|app +│/);
    } finally {
      await busy.release();
    }
  });

  test('pnpm start with the web port taken', async () => {
    const busy = await busyPort();
    try {
      const run = runScript('node', ['scripts/start.mjs', 'broker', 'web', 'agent'], {
        WEBSOCKET_SERVER_ADDR: `127.0.0.1:${await freePort()}`,
        WEB_SERVER_ADDR: `127.0.0.1:${busy.port}`,
      });
      expect(await run.exit).toBe(1);
      const out = run.output().trim().split('\n');
      expect(out).toHaveLength(1);
      expect(out[0]).toMatch(new RegExp(`port ${busy.port} \\(WEB_SERVER_ADDR=127\\.0\\.0\\.1:${busy.port}\\) is already in use`));
    } finally {
      await busy.release();
    }
  });
});

describe('signals stop everything, with one calm line', () => {
  test('pnpm dev: one SPA build, one line per log event, the banner on its own, no start-up warning; SIGTERM stops vite, tsx and the services', async () => {
    const run = runScript('pnpm', ['dev'], { WEBSOCKET_SERVER_ADDR: `127.0.0.1:${await freePort()}`, WEB_SERVER_ADDR: `127.0.0.1:${await freePort()}` });
    await run.until(/Agent Bridge is up: open http:\/\/127\.0\.0\.1:\d+/, 40_000);
    const out = run.output();
    expect(out.match(/built in/g)).toHaveLength(1);
    expect(out).not.toMatch(/could not reach the broker|ECONNREFUSED|EADDRINUSE/);
    // pino-pretty lines of the services: every one starts a new event (a [time] stamp).
    const serviceLines = out.split('\n').filter((l) => /^(broker|web|agent) +│/.test(l));
    expect(serviceLines.length).toBeGreaterThanOrEqual(3);
    for (const l of serviceLines) expect(l).toMatch(/│ \[\d\d:\d\d:\d\d\.\d{3}\] /);
    // The banner stands between complete lines.
    expect(out).toMatch(/\n\n {2}Agent Bridge is up: open \S+\n\n/);
    await expectCleanStop(run, 'SIGTERM');
    expect(run.output().trim().split('\n').at(-1)).toBe('Agent Bridge dev stopped (SIGTERM).');
  }, 60_000);

  test('pnpm start: SIGHUP (pnpm dies without passing it on) still stops the services', async () => {
    const run = runScript('pnpm', ['start'], { WEBSOCKET_SERVER_ADDR: `127.0.0.1:${await freePort()}`, WEB_SERVER_ADDR: `127.0.0.1:${await freePort()}` });
    await run.until(/"name":"web-server".*listening/);
    const tree = descendants(run.child.pid!);
    run.child.kill('SIGHUP');
    await run.exit;
    const deadline = Date.now() + 5000;
    while (tree.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(tree.filter(alive)).toEqual([]);
  });

  test('scripts/start.mjs broker web agent: SIGINT', async () => {
    const run = runScript('node', ['scripts/start.mjs', 'broker', 'web', 'agent'], {
      WEBSOCKET_SERVER_ADDR: `127.0.0.1:${await freePort()}`,
      WEB_SERVER_ADDR: `127.0.0.1:${await freePort()}`,
    });
    await run.until(/"name":"demo-agent".*connected/);
    // The agent started after the broker listened: no redial warning.
    expect(run.output()).not.toMatch(/could not reach the broker/);
    await expectCleanStop(run, 'SIGINT');
    expect(run.output().trim().split('\n').at(-1)).toBe('Agent Bridge stopped (SIGINT).');
  });
});
