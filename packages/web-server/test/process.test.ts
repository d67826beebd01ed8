/** The real process: `node --import tsx packages/web-server/src/main.ts`. */
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from '@agent-bridge/common';
import { connectBrowser, registerClient } from '@agent-bridge/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSite } from './helpers.ts';

const ENTRY = 'packages/web-server/src/main.ts';
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no listening line:\n${stdout}\n${stderr}`)), 15_000);
    child.stdout!.on('data', () => {
      const line = stdout.split('\n').find((l) => /listening/.test(l));
      const m = line && /http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (m) {
        clearTimeout(t);
        resolve(m[0]);
      }
    });
    void exited.then(() => reject(new Error(`exited early:\n${stderr}`)));
  });
  // Tests that expect an early exit never await this.
  listening.catch(() => undefined);
  return { child, exited, listening, out: () => stdout, err: () => stderr };
}

describe('web-server process', () => {
  it('logs one listening line with its URL and exits 0 within 5 s of SIGTERM, closing browsers with 1001', async () => {
    const site = makeSite();
    try {
      const p = run({ WEB_SERVER_ADDR: '127.0.0.1:0', STATIC_ASSETS_PATH: site.root, BROKER_URL: 'ws://127.0.0.1:1', LOG_LEVEL: 'info' });
      const url = await p.listening;
      expect(p.out().split('\n').filter((l) => /listening/.test(l))).toHaveLength(1);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      // A browser whose upstream cannot connect: the shutdown must not wait for it.
      const browser = await connectBrowser(url, await registerClient(url));
      await browser.event('bridge.reconnecting');
      const started = Date.now();
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await browser.waitClose()).code).toBe(1001);
    } finally {
      site.remove();
    }
  });

  it('exits 1 with one line on stderr for a bad setting', async () => {
    const p = run({ WEB_SERVER_ADDR: 'not-an-address' });
    expect(await p.exited).toBe(1);
    const lines = p.err().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^web-server: invalid setting WEB_SERVER_ADDR/);
  });

  it('exits 1 with one line when the port is taken', async () => {
    const site = makeSite();
    try {
      const first = run({ WEB_SERVER_ADDR: '127.0.0.1:0', STATIC_ASSETS_PATH: site.root });
      const port = new URL(await first.listening).port;
      const second = run({ WEB_SERVER_ADDR: `127.0.0.1:${port}`, STATIC_ASSETS_PATH: site.root });
      expect(await second.exited).toBe(1);
      expect(second.err().trim().split('\n')).toHaveLength(1);
      expect(second.err()).toMatch(/EADDRINUSE/);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
    } finally {
      site.remove();
    }
  });
});
