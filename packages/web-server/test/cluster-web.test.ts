/**
 * Web servers in a cluster (PROTOCOL §10) on the real Redis (REDIS_TEST_URL, default
 * redis://127.0.0.1:6379), each test run under its own CLUSTER_PREFIX, every key deleted after:
 * a SIWE challenge issued by one web server verifies once at another, the HTTP rate limit counts
 * per IP across both, a sign-out at one revokes the old token at the other, and Redis out of
 * reach (a TCP proxy in front of it, blocked) is 503 `unavailable` and /readyz `redis` until it
 * is back, without a restart.
 */
import { randomBytes } from 'node:crypto';
import { Wallet } from 'ethers';
import { connectBrowser, registerClient, TcpProxy } from '@agent-bridge/testkit';
import { createLogger } from '@agent-bridge/common';
import { RedisLink } from '@agent-bridge/common/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebServer } from '../src/index.ts';
import { rawRequest, startTestBroker, startWeb } from './helpers.ts';
import { deleteKeys, keysWithoutTtl } from './redis-helpers.ts';

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test-webc-${randomBytes(6).toString('hex')}`;

let broker: Awaited<ReturnType<typeof startTestBroker>>;
let redisProxy: TcpProxy;
let admin: RedisLink;
const webs: WebServer[] = [];

beforeAll(async () => {
  broker = await startTestBroker();
  admin = new RedisLink({ url: REDIS_URL, log: createLogger('test', { level: 'silent' }), name: 'test-admin' });
  await admin.start();
  redisProxy = new TcpProxy(Number(new URL(REDIS_URL).port || 6379), new URL(REDIS_URL).hostname);
  await redisProxy.listen();
});
afterAll(async () => {
  for (const w of webs) await w.close();
  await broker?.close();
  await redisProxy?.close();
  if (admin) {
    await deleteKeys(admin, PREFIX);
    await admin.close();
  }
});

/** A web server of the cluster: same PUBLIC_ORIGIN (helpers' testConfig), same Redis and prefix. */
async function web(env: Record<string, string> = {}): Promise<WebServer> {
  const w = await startWeb({ BROKER_URL: broker.wsUrl, REDIS_URL, CLUSTER_PREFIX: PREFIX, ...env });
  webs.push(w);
  return w;
}

async function post(base: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function challenge(base: string, address: string) {
  const res = await fetch(`${base}/auth/challenge?address=${address}`);
  return { status: res.status, body: (await res.json()) as any };
}

describe('two web servers on one Redis', () => {
  let a: WebServer;
  let b: WebServer;
  beforeAll(async () => {
    a = await web();
    b = await web();
  });

  it('a challenge issued by one verifies at the other, once', async () => {
    const wallet = Wallet.createRandom();
    const issued = await challenge(a.url, wallet.address);
    expect(issued.status).toBe(200);
    const signature = await wallet.signMessage(issued.body.message);
    const ok = await post(b.url, '/auth/verify', { message: issued.body.message, signature });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ address: wallet.address, token: expect.any(String) });
    for (const again of [a, b]) {
      const replay = await post(again.url, '/auth/verify', { message: issued.body.message, signature });
      expect(replay).toMatchObject({ status: 401, body: { error: { code: 'siwe_nonce_used' } } });
    }
  });

  it('concurrent verifications of one signed challenge at both servers: exactly one succeeds', async () => {
    const wallet = Wallet.createRandom();
    const issued = await challenge(b.url, wallet.address);
    const signature = await wallet.signMessage(issued.body.message);
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => post((i % 2 ? a : b).url, '/auth/verify', { message: issued.body.message, signature })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('a sign-out at one revokes the old token at the other', async () => {
    const session = await registerClient(a.url);
    const me = (base: string, token: string) => fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect(await me(b.url, session.token)).toBe(200);
    const out = await post(a.url, '/auth/signout', undefined, { authorization: `Bearer ${session.token}` });
    expect(out.status).toBe(200);
    await expect.poll(() => me(b.url, session.token), { timeout: 3000, interval: 50 }).toBe(401);
    expect(await me(b.url, out.body.token)).toBe(200);
  });

  it('every key they wrote has a TTL', async () => {
    expect(await keysWithoutTtl(admin, PREFIX)).toEqual([]);
  });
});

describe('the HTTP rate limit', () => {
  it('counts per IP across both web servers', async () => {
    // A prefix of its own: the other tests' requests must not count here.
    const env = { RATE_LIMIT_HTTP_PER_MIN: '4', CLUSTER_PREFIX: `${PREFIX}:rl` };
    const a = await web(env);
    const b = await web(env);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(i % 2 ? b.url : a.url, '/api/clients')).status);
    expect(statuses).toEqual([201, 201, 201, 201, 429, 429]);
  });
});

describe('Redis out of reach', () => {
  it('503 unavailable for what needs it, /readyz redis, no crash; back by itself', async () => {
    const w = await web({ REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`, CLUSTER_PREFIX: `${PREFIX}:down` });
    const address = Wallet.createRandom().address;
    expect((await challenge(w.url, address)).status).toBe(200);
    expect((await rawRequest(w.url, '/readyz')).status).toBe(200);

    redisProxy.block();
    redisProxy.cut();
    await expect.poll(async () => (await rawRequest(w.url, '/readyz')).status, { timeout: 5000, interval: 100 }).toBe(503);
    expect((await rawRequest(w.url, '/readyz')).json()).toMatchObject({ status: 'unavailable', reasons: ['redis'] });
    expect(await challenge(w.url, address)).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    // Tokens are stateless: registering still works (the rate limit counts locally meanwhile).
    const session = await registerClient(w.url);
    await expect(connectBrowser(w.url, session)).rejects.toMatchObject({ status: 503 });
    expect((await rawRequest(w.url, '/healthz')).status).toBe(200);

    redisProxy.unblock();
    await expect.poll(async () => (await rawRequest(w.url, '/readyz')).status, { timeout: 10_000, interval: 200 }).toBe(200);
    expect((await challenge(w.url, address)).status).toBe(200);
    const browser = await connectBrowser(w.url, session);
    await browser.next('welcome');
    browser.close();
  });
});
