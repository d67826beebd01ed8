/** The real process (`node --import tsx packages/web-server/src/main.ts`) through the testkit. */
import { ServiceProcess, connectBrowser, registerClient } from '@agent-bridge/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSite } from './helpers.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function web(env: Record<string, string>): ServiceProcess {
  const site = makeSite();
  const p = new ServiceProcess({
    name: 'web-server',
    entry: 'packages/web-server/src/main.ts',
    env: { NODE_ENV: 'test', WEB_SERVER_ADDR: '127.0.0.1:0', STATIC_ASSETS_PATH: site.root, LOG_LEVEL: 'info', ...env },
  });
  cleanups.push(() => site.remove(), () => p.kill());
  return p;
}

describe('web-server process', () => {
  it('logs one listening line with its URL and exits 0 within 5 s of SIGTERM, closing browsers with 1001', async () => {
    const p = web({ BROKER_URL: 'ws://127.0.0.1:1' });
    await p.start();
    expect(p.stdout().split('\n').filter((l) => /listening/.test(l))).toHaveLength(1);
    expect((await fetch(`${p.url}/healthz`)).status).toBe(200);
    // A browser whose upstream cannot connect: the shutdown must not wait for it.
    const browser = await connectBrowser(p.url, await registerClient(p.url));
    await browser.event('bridge.reconnecting');
    const started = Date.now();
    const exit = p.stop('SIGTERM');
    expect((await browser.waitClose()).code).toBe(1001);
    expect(await exit).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('exits 1 with one line on stderr for a bad setting', async () => {
    const p = web({ WEB_SERVER_ADDR: 'not-an-address' });
    await expect(p.start()).rejects.toThrow(/exited \(1\)/);
    const lines = p.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^web-server: invalid setting WEB_SERVER_ADDR/);
  });

  it('exits 1 with one line when the port is taken', async () => {
    const first = web({});
    await first.start();
    const second = web({ WEB_SERVER_ADDR: `127.0.0.1:${first.port}` });
    await expect(second.start()).rejects.toThrow(/exited \(1\)/);
    expect(second.stderr().trim().split('\n')).toHaveLength(1);
    expect(second.stderr()).toMatch(/EADDRINUSE/);
    expect(await first.stop('SIGTERM')).toBe(0);
  });
});
