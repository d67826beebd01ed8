/** Browser upgrades: everything is checked before the socket exists. */
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { connectBrowser, refusedUpgrade, registerClient } from '@agent-bridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebServer } from '../src/index.ts';
import { JWT_SECRET, PUBLIC_ORIGIN, makeSite, startTestBroker, startWeb, type TempSite } from './helpers.ts';

let site: TempSite;
let web: WebServer;
let broker: Awaited<ReturnType<typeof startTestBroker>>;
const ALLOWED = 'https://other.example';

beforeAll(async () => {
  site = makeSite();
  broker = await startTestBroker();
  web = await startWeb({ STATIC_ASSETS_PATH: site.root, BROKER_URL: broker.wsUrl, ALLOWED_ORIGINS: `${ALLOWED}, https://third.example` });
});
afterAll(async () => {
  await web?.close();
  await broker?.close();
  site?.remove();
});

const wsBase = () => web.url.replace(/^http/, 'ws');

function refused(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  return refusedUpgrade(wsBase() + path, { headers });
}

const errorBody = (code: string) => ({ error: { code, message: expect.any(String) } });

describe('GET /ws/:clientId upgrade checks', () => {
  it('refuses a missing token with 401', async () => {
    const s = await registerClient(web.url);
    expect(await refused(`/ws/${s.clientId}`)).toEqual({ status: 401, body: errorBody('unauthorized') });
  });

  it('refuses a bad token with 401', async () => {
    const s = await registerClient(web.url);
    expect(await refused(`/ws/${s.clientId}?token=${s.token}x`)).toEqual({ status: 401, body: errorBody('unauthorized') });
  });

  it("refuses another client's token with 401", async () => {
    const a = await registerClient(web.url);
    const b = await registerClient(web.url);
    expect(await refused(`/ws/${a.clientId}?token=${b.token}`)).toEqual({ status: 401, body: errorBody('unauthorized') });
  });

  it('refuses an expired token with 401', async () => {
    const expired = jwt.sign({ exp: Math.floor(Date.now() / 1000) - 60 }, JWT_SECRET, {
      subject: 'c-exp', issuer: 'agent-bridge', audience: 'agent-bridge-session',
    });
    expect(await refused(`/ws/c-exp?token=${expired}`)).toEqual({ status: 401, body: errorBody('unauthorized') });
  });

  it('refuses a foreign Origin with 403 forbidden, even with a good token', async () => {
    const s = await registerClient(web.url);
    for (const origin of ['https://evil.example', 'http://app.test:9999', 'null']) {
      expect(await refused(`/ws/${s.clientId}?token=${s.token}`, { origin }), origin).toEqual({ status: 403, body: errorBody('forbidden') });
    }
  });

  it('refuses other paths with 404 and a bad resume query with 400', async () => {
    const s = await registerClient(web.url);
    expect((await refused(`/elsewhere?token=${s.token}`)).status).toBe(404);
    expect((await refused(`/ws/${s.clientId}/extra?token=${s.token}`)).status).toBe(404);
    expect((await refused(`/ws/${s.clientId}?token=${s.token}&lastSeq=-1`)).status).toBe(400);
    expect((await refused(`/ws/${s.clientId}?token=${s.token}&lastSeq=abc`)).body).toEqual(errorBody('bad_request'));
  });

  it('accepts PUBLIC_ORIGIN, ALLOWED_ORIGINS and no Origin at all', async () => {
    for (const origin of [PUBLIC_ORIGIN, ALLOWED, undefined]) {
      const s = await registerClient(web.url);
      const sock = await connectBrowser(web.url, s, origin ? { origin } : {});
      const welcome = await sock.next('welcome');
      expect(welcome).toMatchObject({ clientId: s.clientId, resumed: false, epoch: broker.epoch });
      sock.close(1000);
      await sock.waitClose();
    }
  });

  it('refuses every upgrade without crashing when the request is garbage', async () => {
    const ws = new WebSocket(`${wsBase()}/ws/%E0%A4%A?token=x`);
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect([400, 401]).toContain(status);
    expect((await fetch(`${web.url}/healthz`)).status).toBe(200);
  });

  it('uses the bound port for PUBLIC_ORIGIN when it is unset and WEB_SERVER_ADDR has port 0', async () => {
    const own = await startWeb({ STATIC_ASSETS_PATH: site.root, BROKER_URL: broker.wsUrl, PUBLIC_ORIGIN: '' });
    try {
      const csp = (await fetch(own.url)).headers.get('content-security-policy')!;
      expect(csp).toContain(`connect-src 'self' ${own.url.replace('http:', 'ws:')}`);
      const s = await registerClient(own.url);
      const sock = await connectBrowser(own.url, s, { origin: own.url });
      await sock.next('welcome');
      sock.close(1000);
      await sock.waitClose();
      const other = await registerClient(own.url);
      await expect(connectBrowser(own.url, other, { origin: 'http://127.0.0.1:0' })).rejects.toMatchObject({ status: 403 });
    } finally {
      await own.close();
    }
  });
});
