import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@agent-bridge/common';
import { AGENT_TOKEN, PROXY_TOKEN, open } from './helpers.ts';

const ENTRY = 'packages/websocket-server/src/main.ts';

function spawnBroker(env: Record<string, string>): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', LOG_FORMAT: 'json', AGENT_TOKEN, PROXY_TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function waitFor(fn: () => RegExpExecArray | null, timeoutMs: number, what: () => string): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = fn();
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the broker process', () => {
  it('logs one listening line with its URL; SIGTERM closes agents with 1001 and exits 0 within 5 s', async () => {
    const p = spawnBroker({ WEBSOCKET_SERVER_ADDR: '127.0.0.1:0' });
    try {
      const m = await waitFor(() => /listening.*(http:\/\/127\.0\.0\.1:(\d+))/.exec(p.stdout()), 15_000, () => p.stdout() + p.stderr());
      expect(p.stdout().split('\n').filter((l) => l.includes('listening'))).toHaveLength(1);
      const url = m[1]!;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      // A refused upgrade is logged without the query's token.
      await open(`${url.replace('http', 'ws')}/ws/nothing?token=supersecret`).catch(() => undefined);
      const a = await open(`${url.replace('http', 'ws')}/ws/agent`, { headers: { Authorization: `Bearer ${AGENT_TOKEN}` } });
      await a.next('welcome');
      const t0 = Date.now();
      p.child.kill('SIGTERM');
      expect((await a.waitClose(5000)).code).toBe(1001);
      expect(await p.exit).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
      // Secrets never reach the logs.
      expect(p.stdout()).not.toContain(AGENT_TOKEN);
      expect(p.stdout()).not.toContain(PROXY_TOKEN);
      expect(p.stdout()).toContain('upgrade refused');
      expect(p.stdout()).not.toContain('supersecret');
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('exits 1 with one stderr line on a bad setting', async () => {
    const p = spawnBroker({ WEBSOCKET_SERVER_ADDR: '127.0.0.1:0', MAILBOX_LIMIT: 'lots' });
    expect(await p.exit).toBe(1);
    const lines = p.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^broker: invalid setting MAILBOX_LIMIT/);
  });
});
