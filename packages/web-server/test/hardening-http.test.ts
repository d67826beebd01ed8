/**
 * Issue 9, the HTTP side: connection caps and timeouts, logs without tokens, SIWE bound to the
 * issued text and per-IP nonce caps, JSON-only and Origin-checked POSTs, TRUST_PROXY, sign-out
 * revocation, /metrics access, HSTS and headers on raw refusals, POST /api/ws-check, and the
 * development loopback origins. Real web servers on port 0, real sockets.
 */
import net from 'node:net';
import { Wallet } from 'ethers';
import { SiweMessage } from '@signinwithethereum/siwe';
import { connectBrowser, refusedUpgrade, registerClient } from '@agent-bridge/testkit';
import { createLogger } from '@agent-bridge/common';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebServer } from '../src/index.ts';
import { PUBLIC_ORIGIN, rawRequest, startTestBroker, startWeb, testConfig } from './helpers.ts';
import { startWebServer } from '../src/index.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function web(env: Record<string, string> = {}, logger?: ReturnType<typeof createLogger>): Promise<WebServer> {
  const w = logger ? await startWebServer(testConfig(env), { logger }) : await startWeb(env);
  cleanups.push(() => w.close());
  return w;
}

const json = { 'content-type': 'application/json' };

async function signIn(w: WebServer, wallet = Wallet.createRandom(), headers: Record<string, string> = {}) {
  const c = await rawRequest(w.url, `/auth/challenge?address=${wallet.address}`, { headers });
  expect(c.status).toBe(200);
  const { message } = c.json() as { message: string };
  const signature = await wallet.signMessage(message);
  const v = await rawRequest(w.url, '/auth/verify', { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify({ message, signature }) });
  return { wallet, message, signature, res: v, body: v.json() as { token: string; clientId: string; address: string } };
}

function openSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
    cleanups.push(() => s.destroy());
  });
}

function closedWithin(s: net.Socket, ms: number): Promise<{ closed: boolean; data: string }> {
  return new Promise((resolve) => {
    let data = '';
    s.on('data', (c) => (data += c.toString()));
    const t = setTimeout(() => resolve({ closed: false, data }), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve({ closed: true, data });
    });
  });
}

describe('connections', () => {
  it('CONNECTIONS_PER_IP: one address cannot hold every descriptor; beyond it, 503 over_capacity at once', async () => {
    const w = await web({ CONNECTIONS_PER_IP: '4' });
    for (let i = 0; i < 4; i++) await openSocket(w.port);
    const extra = await openSocket(w.port);
    const r = await closedWithin(extra, 2000);
    expect(r.closed).toBe(true);
    expect(r.data).toMatch(/^HTTP\/1.1 503/);
    expect(r.data).toContain('"over_capacity"');
    expect(r.data).toContain('X-Content-Type-Options: nosniff');
  });

  it('slowloris: a request whose headers never finish is cut after HTTP_HEADERS_TIMEOUT_MS', async () => {
    const w = await web({ HTTP_HEADERS_TIMEOUT_MS: '300', HTTP_REQUEST_TIMEOUT_MS: '600' });
    const s = await openSocket(w.port);
    s.write('GET /ws/abc?token=x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n');
    const drip = setInterval(() => s.writable && s.write('X-A: b\r\n'), 50);
    cleanups.push(() => clearInterval(drip));
    const r = await closedWithin(s, 3000);
    expect(r.closed).toBe(true);
  });
});

describe('logs', () => {
  it('a refused upgrade with ?%74oken=<jwt> logs no part of the query', async () => {
    const lines: string[] = [];
    const logger = createLogger('web-server', { level: 'info', destination: { write: (s: string) => void lines.push(s) } });
    const w = await web({}, logger);
    const session = await registerClient(w.url);
    const url = `${w.url.replace('http', 'ws')}/ws/${session.clientId}?%74oken=${session.token}`;
    // Refused for its Origin, after the token spelling was accepted by the parser.
    const refused = await refusedUpgrade(url, { origin: 'http://evil.example' });
    expect(refused.status).toBe(403);
    const other = await refusedUpgrade(`${w.url.replace('http', 'ws')}/ws/other-client?%74oken=${session.token}`);
    expect(other.status).toBe(401);
    const all = lines.join('');
    expect(all).toContain('browser upgrade refused');
    expect(all).not.toContain(session.token.split('.')[1]!);
  });
});

describe('sign-in', () => {
  it('only the exact text issued with the nonce verifies: changed statement, added resources, removed expiry, another address', async () => {
    const w = await web({ SIWE_NONCES_PER_IP: '100' });
    const wallet = Wallet.createRandom();
    const variants: ((m: SiweMessage) => void)[] = [
      (m) => (m.statement = 'Transfer everything'),
      (m) => (m.resources = ['https://evil.example/grant']),
      (m) => (m.expirationTime = undefined),
    ];
    for (const change of variants) {
      const c = (await rawRequest(w.url, `/auth/challenge?address=${wallet.address}`)).json() as { message: string };
      const m = new SiweMessage(c.message);
      change(m);
      const message = m.prepareMessage();
      const v = await rawRequest(w.url, '/auth/verify', { method: 'POST', headers: json, body: JSON.stringify({ message, signature: await wallet.signMessage(message) }) });
      expect(v.status).toBe(401);
      expect((v.json() as { error: { code: string } }).error.code).toBe('siwe_message_mismatch');
    }
    // A nonce issued for another address, used by this wallet.
    const victim = Wallet.createRandom();
    const c = (await rawRequest(w.url, `/auth/challenge?address=${victim.address}`)).json() as { message: string };
    const m = new SiweMessage(c.message);
    m.address = wallet.address;
    const message = m.prepareMessage();
    const v = await rawRequest(w.url, '/auth/verify', { method: 'POST', headers: json, body: JSON.stringify({ message, signature: await wallet.signMessage(message) }) });
    expect((v.json() as { error: { code: string } }).error.code).toBe('siwe_message_mismatch');
  });

  it('SIWE_NONCES_PER_IP: one address cannot pile up challenges (429), and another address is unaffected', async () => {
    const w = await web({ SIWE_NONCES_PER_IP: '3', TRUST_PROXY: 'loopback' });
    const attacker = { 'x-forwarded-for': '203.0.113.7' };
    const victimIp = { 'x-forwarded-for': '198.51.100.1' };
    const victim = Wallet.createRandom();
    const vc = (await rawRequest(w.url, `/auth/challenge?address=${victim.address}`, { headers: victimIp })).json() as { message: string };
    for (let i = 0; i < 3; i++) {
      expect((await rawRequest(w.url, `/auth/challenge?address=${Wallet.createRandom().address}`, { headers: attacker })).status).toBe(200);
    }
    const refused = await rawRequest(w.url, `/auth/challenge?address=${Wallet.createRandom().address}`, { headers: attacker });
    expect(refused.status).toBe(429);
    expect((refused.json() as { error: { code: string } }).error.code).toBe('rate_limited');
    const v = await rawRequest(w.url, '/auth/verify', {
      method: 'POST',
      headers: { ...json, ...victimIp },
      body: JSON.stringify({ message: vc.message, signature: await victim.signMessage(vc.message) }),
    });
    expect(v.status).toBe(200);
  });

  it('sign-out revokes every earlier token of the session: no /api/me with the wallet, no socket', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const w = await web({ BROKER_URL: broker.wsUrl });
    const { body } = await signIn(w);
    const old = body.token;
    const me = (t: string) => rawRequest(w.url, '/api/me', { headers: { authorization: `Bearer ${t}` } });
    expect((await me(old)).json()).toMatchObject({ address: body.address });
    const out = await rawRequest(w.url, '/auth/signout', { method: 'POST', headers: { authorization: `Bearer ${old}` } });
    expect(out.status).toBe(200);
    const fresh = (out.json() as { token: string }).token;
    expect((await me(old)).status).toBe(401);
    expect((await refusedUpgrade(`${w.url.replace('http', 'ws')}/ws/${body.clientId}?token=${old}`)).status).toBe(401);
    expect((await me(fresh)).json()).toEqual({ clientId: body.clientId, address: null });
    const s = await connectBrowser(w.url, { clientId: body.clientId, token: fresh, expiresAt: '' });
    cleanups.push(() => s.ws.terminate());
    await s.next('welcome');
  });
});

describe('cross-site requests to /api and /auth', () => {
  it('accepts only application/json bodies (or none): 415; a foreign Origin: 403', async () => {
    const w = await web();
    const post = (headers: Record<string, string>, body?: string) => rawRequest(w.url, '/api/clients', { method: 'POST', headers, body });
    const text = await post({ 'content-type': 'text/plain' }, 'x');
    expect(text.status).toBe(415);
    expect(text.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });
    const form = await post({ 'content-type': 'application/x-www-form-urlencoded' }, 'a=b');
    expect(form.status).toBe(415);
    const foreign = await post({ origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.json()).toMatchObject({ error: { code: 'forbidden' } });
    expect((await post({})).status).toBe(201);
    expect((await post({ ...json, origin: PUBLIC_ORIGIN }, '{}')).status).toBe(201);
    expect((await rawRequest(w.url, '/auth/signout', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status).toBe(415);
  });
});

describe('TRUST_PROXY', () => {
  it('with a trusted proxy each forwarded client has its own budget; without, X-Forwarded-For is ignored', async () => {
    const trusted = await web({ TRUST_PROXY: 'loopback', RATE_LIMIT_HTTP_PER_MIN: '2' });
    const post = (w: WebServer, ip: string) => rawRequest(w.url, '/api/clients', { method: 'POST', headers: { 'x-forwarded-for': ip } });
    expect((await post(trusted, '203.0.113.1')).status).toBe(201);
    expect((await post(trusted, '203.0.113.1')).status).toBe(201);
    expect((await post(trusted, '203.0.113.1')).status).toBe(429);
    expect((await post(trusted, '203.0.113.2')).status).toBe(201);

    const untrusted = await web({ RATE_LIMIT_HTTP_PER_MIN: '2' });
    expect((await post(untrusted, '203.0.113.1')).status).toBe(201);
    expect((await post(untrusted, '203.0.113.2')).status).toBe(201);
    expect((await post(untrusted, '203.0.113.3')).status).toBe(429);
  });

  it('upgrades resolve the client the same way (per-IP upgrade limit)', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const w = await web({ BROKER_URL: broker.wsUrl, TRUST_PROXY: '1', WS_UPGRADES_PER_MIN_PER_IP: '1' });
    const open = async (ip: string) => {
      const s = await registerClient(w.url);
      const u = `${w.url.replace('http', 'ws')}/ws/${s.clientId}?token=${s.token}`;
      return refusedUpgrade(u, { headers: { 'x-forwarded-for': ip } }).catch(() => ({ status: 101 }));
    };
    expect((await open('203.0.113.1')).status).toBe(101);
    expect((await open('203.0.113.1')).status).toBe(429);
    expect((await open('203.0.113.2')).status).toBe(101);
  });
});

describe('/metrics', () => {
  it('with METRICS_TOKEN: only with the bearer token', async () => {
    const w = await web({ METRICS_TOKEN: 'metrics-secret-0123456789' });
    expect((await rawRequest(w.url, '/metrics')).status).toBe(401);
    expect((await rawRequest(w.url, '/metrics', { headers: { authorization: 'Bearer wrong-wrong-wrong-wrong' } })).status).toBe(401);
    const ok = await rawRequest(w.url, '/metrics', { headers: { authorization: 'Bearer metrics-secret-0123456789' } });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('agent_bridge_connections{kind="client"}');
  });

  it('without: loopback callers only; a request that came through a proxy is 404 with our error body', async () => {
    const w = await web({ TRUST_PROXY: 'loopback' });
    expect((await rawRequest(w.url, '/metrics')).status).toBe(200);
    const proxied = await rawRequest(w.url, '/metrics', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(proxied.status).toBe(404);
    expect(proxied.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('security headers', () => {
  it('HSTS when PUBLIC_ORIGIN is https, on Express answers and raw upgrade refusals alike; never on http', async () => {
    const https = await web({ PUBLIC_ORIGIN: 'https://app.test' });
    const page = await rawRequest(https.url, '/api/nothing');
    expect(page.headers['strict-transport-security']).toBe('max-age=31536000');
    const s = await openSocket(https.port);
    s.write('GET /ws/abc HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    const raw = (await closedWithin(s, 2000)).data;
    expect(raw).toMatch(/^HTTP\/1.1 401/);
    expect(raw).toContain('Strict-Transport-Security: max-age=31536000');
    expect(raw).toContain('X-Content-Type-Options: nosniff');
    expect(raw).toContain('Cache-Control: no-store');
    expect(raw).toContain('X-Frame-Options: DENY');
    const http = await web();
    expect((await rawRequest(http.url, '/api/nothing')).headers['strict-transport-security']).toBeUndefined();
  });
});

describe('POST /api/ws-check', () => {
  it('answers what an upgrade with this token and Origin would get, without spending its budget', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const w = await web({ BROKER_URL: broker.wsUrl, WS_UPGRADES_PER_MIN_PER_CLIENT: '2' });
    const session = await registerClient(w.url);
    const check = (body: unknown, headers: Record<string, string> = {}) =>
      rawRequest(w.url, '/api/ws-check', { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify(body) });
    for (let i = 0; i < 5; i++) expect((await check({ clientId: session.clientId, token: session.token })).json()).toEqual({ ok: true });
    const bad = await check({ clientId: session.clientId, token: 'nope' });
    expect(bad.status).toBe(401);
    expect(bad.json()).toMatchObject({ error: { code: 'unauthorized' } });
    expect((await check({ clientId: 'someone-else', token: session.token })).status).toBe(401);
    const foreign = await check({ clientId: session.clientId, token: session.token }, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect((await check({ clientId: session.clientId })).status).toBe(400);
    // Spend the two upgrades: now the check says 429 like the upgrade would.
    for (let i = 0; i < 2; i++) {
      const s = await connectBrowser(w.url, session);
      await s.next('welcome');
      s.ws.terminate();
    }
    const limited = await check({ clientId: session.clientId, token: session.token });
    expect(limited.status).toBe(429);
    expect(limited.json()).toMatchObject({ error: { code: 'rate_limited' } });
  });
});

describe('development origins', () => {
  it('with NODE_ENV=development, localhost, 127.0.0.1 and [::1] on the same port are one origin (WebSocket and sign-in)', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const w = await web({ NODE_ENV: 'development', PUBLIC_ORIGIN: 'http://127.0.0.1:18081', BROKER_URL: broker.wsUrl });
    const session = await registerClient(w.url);
    for (const origin of ['http://localhost:18081', 'http://[::1]:18081', 'http://127.0.0.1:18081']) {
      const s = await connectBrowser(w.url, session, { origin });
      await s.next('welcome');
      s.ws.terminate();
    }
    await expect(connectBrowser(w.url, session, { origin: 'http://localhost:9999' })).rejects.toMatchObject({ status: 403 });
    // A sign-in started from http://localhost:18081 names that origin and verifies.
    const { res, message } = await signIn(w, Wallet.createRandom(), { origin: 'http://localhost:18081' });
    expect(message).toContain('localhost:18081 wants you to sign in');
    expect(res.status).toBe(200);
  });

  it('not in test/production: another loopback spelling is refused', async () => {
    const w = await web({ PUBLIC_ORIGIN: 'http://127.0.0.1:18081' });
    const session = await registerClient(w.url);
    await expect(connectBrowser(w.url, session, { origin: 'http://localhost:18081' })).rejects.toMatchObject({ status: 403 });
  });
});
