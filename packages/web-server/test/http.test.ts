/** The web server's HTTP side on a real port: API, errors, health, metrics, security headers. */
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebServer } from '../src/index.ts';
import { JWT_SECRET, PUBLIC_ORIGIN, makeSite, startWeb, type TempSite } from './helpers.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let site: TempSite;
let web: WebServer;

beforeAll(async () => {
  site = makeSite();
  web = await startWeb({ STATIC_ASSETS_PATH: site.root, MAX_MESSAGE_BYTES: '1024', RATE_LIMIT_HTTP_PER_MIN: '1000' });
});
afterAll(async () => {
  await web?.close();
  site?.remove();
});

function expectErrorBody(body: unknown, code: string): void {
  expect(body).toEqual({ error: { code, message: expect.any(String) } });
}

describe('POST /api/clients', () => {
  it('issues a uuid v4 clientId and a session JWT with sub, iss, aud, iat, exp', async () => {
    const res = await fetch(`${web.url}/api/clients`, { method: 'POST' });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { clientId: string; token: string; expiresAt: string };
    expect(Object.keys(body).sort()).toEqual(['clientId', 'expiresAt', 'token']);
    expect(body.clientId).toMatch(UUID_V4);
    const claims = jwt.verify(body.token, JWT_SECRET, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(jwt.decode(body.token, { complete: true })!.header.alg).toBe('HS256');
    expect(claims.sub).toBe(body.clientId);
    expect(claims.iss).toBe('agent-bridge');
    expect(claims.aud).toBe('agent-bridge-session');
    expect(claims.addr).toBeUndefined();
    expect(claims.exp! - claims.iat!).toBe(86400);
    expect(new Date(body.expiresAt).getTime()).toBe(claims.exp! * 1000);
    expect(body.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  it('gives every call a new clientId', async () => {
    const a = (await (await fetch(`${web.url}/api/clients`, { method: 'POST' })).json()) as { clientId: string };
    const b = (await (await fetch(`${web.url}/api/clients`, { method: 'POST' })).json()) as { clientId: string };
    expect(a.clientId).not.toBe(b.clientId);
  });

  it('refuses other methods with 405 method_not_allowed', async () => {
    const res = await fetch(`${web.url}/api/clients`);
    expect(res.status).toBe(405);
    expectErrorBody(await res.json(), 'method_not_allowed');
  });

  it('answers a body over MAX_MESSAGE_BYTES with 413 payload_too_large', async () => {
    const res = await fetch(`${web.url}/api/clients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(2000) }),
    });
    expect(res.status).toBe(413);
    expectErrorBody(await res.json(), 'payload_too_large');
  });

  it('answers malformed JSON with 400 bad_request and no stack trace', async () => {
    const res = await fetch(`${web.url}/api/clients`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(res.status).toBe(400);
    const text = await res.text();
    expectErrorBody(JSON.parse(text), 'bad_request');
    expect(text).not.toMatch(/at .*\.(js|ts):\d+/);
  });
});

describe('GET /api/me', () => {
  it('returns the clientId and a null address for an anonymous token', async () => {
    const { clientId, token } = (await (await fetch(`${web.url}/api/clients`, { method: 'POST' })).json()) as { clientId: string; token: string };
    const res = await fetch(`${web.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ clientId, address: null });
  });

  it('returns the address a token carries', async () => {
    const token = jwt.sign({ addr: '0xAbC0000000000000000000000000000000000001' }, JWT_SECRET, {
      algorithm: 'HS256', subject: 'c-1', issuer: 'agent-bridge', audience: 'agent-bridge-session', expiresIn: 60,
    });
    const res = await fetch(`${web.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(await res.json()).toEqual({ clientId: 'c-1', address: '0xAbC0000000000000000000000000000000000001' });
  });

  it.each([
    ['no header', undefined],
    ['garbage', 'Bearer not.a.jwt'],
    ['another key', `Bearer ${jwt.sign({}, 'another_secret_0123456789', { subject: 'c', issuer: 'agent-bridge', audience: 'agent-bridge-session', expiresIn: 60 })}`],
    ['wrong audience', `Bearer ${jwt.sign({}, JWT_SECRET, { subject: 'c', issuer: 'agent-bridge', audience: 'other', expiresIn: 60 })}`],
    ['expired', `Bearer ${jwt.sign({ exp: Math.floor(Date.now() / 1000) - 60 }, JWT_SECRET, { subject: 'c', issuer: 'agent-bridge', audience: 'agent-bridge-session' })}`],
  ])('refuses %s with 401 unauthorized', async (_name, header) => {
    const res = await fetch(`${web.url}/api/me`, { headers: header ? { authorization: header } : {} });
    expect(res.status).toBe(401);
    expectErrorBody(await res.json(), 'unauthorized');
  });
});

describe('routing and errors', () => {
  it('answers unknown /api/* and /auth/* paths with 404 not_found JSON', async () => {
    for (const p of ['/api/nope', '/api', '/auth/nope']) {
      const res = await fetch(web.url + p);
      expect(res.status, p).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expectErrorBody(await res.json(), 'not_found');
    }
  });

  it('mounts the sign-in router at /auth (no-store, its own validation)', async () => {
    const res = await fetch(`${web.url}/auth/challenge`);
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expectErrorBody(await res.json(), 'bad_request');
  });

  it('answers a plain GET on /ws/:clientId with 426 upgrade_required', async () => {
    const res = await fetch(`${web.url}/ws/abc`);
    expect(res.status).toBe(426);
    expectErrorBody(await res.json(), 'upgrade_required');
  });

  it('serves /healthz and Prometheus /metrics', async () => {
    const health = await fetch(`${web.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', uptimeS: expect.any(Number), clients: 0 });
    const metrics = await fetch(`${web.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await metrics.text();
    expect(text).toMatch(/# TYPE agent_bridge_http_requests_total counter/);
    expect(text).toMatch(/agent_bridge_http_requests_total\{route="healthz",method="GET",status="200"\} \d+/);
    expect(text).toMatch(/agent_bridge_process_cpu_user_seconds_total/);
  });
});

describe('security headers', () => {
  it('sends a CSP that allows only our own scripts and the ws: origin, plus nosniff and no-referrer', async () => {
    for (const p of ['/', '/healthz', '/assets/app-abc123.js']) {
      const res = await fetch(web.url + p);
      const csp = res.headers.get('content-security-policy')!;
      expect(csp, p).toBeTruthy();
      const directives = Object.fromEntries(csp.split(/;\s*/).map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
      expect(directives['script-src']).toBe("'self'");
      expect(directives['style-src']).toBe("'self' 'unsafe-inline'");
      expect(directives['img-src']).toBe("'self' data: blob:");
      expect(directives['worker-src']).toBe("'self' blob:");
      expect(directives['connect-src']).toBe(`'self' ${PUBLIC_ORIGIN.replace('http:', 'ws:')}`);
      expect(csp).not.toMatch(/unsafe-eval/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });
});

describe('rate limit', () => {
  it('answers the request after RATE_LIMIT_HTTP_PER_MIN with 429 rate_limited, counting /api/clients and /auth/* together', async () => {
    const site2 = makeSite();
    const limited = await startWeb({ STATIC_ASSETS_PATH: site2.root, RATE_LIMIT_HTTP_PER_MIN: '3' });
    try {
      const first = await fetch(`${limited.url}/api/clients`, { method: 'POST' });
      expect(first.status).toBe(201);
      expect(first.headers.get('ratelimit-policy')).toMatch(/3;w=60/);
      expect(first.headers.get('ratelimit')).toMatch(/limit=3, remaining=2/);
      expect((await fetch(`${limited.url}/auth/challenge`)).status).toBe(400);
      expect((await fetch(`${limited.url}/api/clients`, { method: 'POST' })).status).toBe(201);
      const res = await fetch(`${limited.url}/api/clients`, { method: 'POST' });
      expect(res.status).toBe(429);
      expectErrorBody(await res.json(), 'rate_limited');
      expect((await fetch(`${limited.url}/auth/challenge?address=0x0`)).status).toBe(429);
      // Not limited: the SPA, health, /api/me.
      expect((await fetch(`${limited.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${limited.url}/`)).status).toBe(200);
    } finally {
      await limited.close();
      site2.remove();
    }
  });
});
