/** The real process (`node --import tsx packages/websocket-server/src/main.ts`) through the testkit. */
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceProcess } from '@agent-bridge/testkit';
import { AGENT_TOKEN, PROXY_TOKEN, open } from './helpers.ts';

const procs: ServiceProcess[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill()));
});

function broker(env: Record<string, string>): ServiceProcess {
  const p = new ServiceProcess({
    name: 'broker',
    entry: 'packages/websocket-server/src/main.ts',
    env: { NODE_ENV: 'test', LOG_LEVEL: 'info', LOG_FORMAT: 'json', AGENT_TOKEN, PROXY_TOKEN, WEBSOCKET_SERVER_ADDR: '127.0.0.1:0', STATE_SNAPSHOT_PATH: 'off', ...env },
  });
  procs.push(p);
  return p;
}

describe('the broker process', () => {
  it('logs one listening line with its URL; SIGTERM closes agents with 1001 and exits 0 within 5 s', async () => {
    const p = broker({});
    await p.start();
    expect(p.stdout().split('\n').filter((l) => l.includes('listening'))).toHaveLength(1);
    expect((await fetch(`${p.url}/healthz`)).status).toBe(200);
    const wsUrl = p.url.replace('http', 'ws');
    // A refused upgrade is logged without the query's token.
    await open(`${wsUrl}/ws/nothing?token=supersecret`).catch(() => undefined);
    const a = await open(`${wsUrl}/ws/agent`, { headers: { Authorization: `Bearer ${AGENT_TOKEN}` } });
    await a.next('welcome');
    const t0 = Date.now();
    const exit = p.stop('SIGTERM');
    expect((await a.waitClose(5000)).code).toBe(1001);
    expect(await exit).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    // Secrets never reach the logs.
    expect(p.logs()).not.toContain(AGENT_TOKEN);
    expect(p.logs()).not.toContain(PROXY_TOKEN);
    expect(p.stdout()).toContain('upgrade refused');
    expect(p.logs()).not.toContain('supersecret');
  });

  it('exits 1 with one stderr line on a bad setting', async () => {
    const p = broker({ MAILBOX_LIMIT: 'lots' });
    await expect(p.start()).rejects.toThrow(/exited \(1\)/);
    expect(p.lastExitCode).toBe(1);
    const lines = p.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^broker: invalid setting MAILBOX_LIMIT/);
  });
});
