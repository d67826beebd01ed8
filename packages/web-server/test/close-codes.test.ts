/**
 * The web server's side of the hop against a scripted broker (a bare ws server), for what a real
 * broker does not do on demand: every close code, a silent broker, a flood into a slow browser.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { registerClient, TestSocket } from '@agent-bridge/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebServer } from '../src/index.ts';
import { makeSite, startWeb } from './helpers.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface FakeBroker {
  wsUrl: string;
  connections: { ws: WebSocket; req: IncomingMessage }[];
  next(): Promise<{ ws: WebSocket; req: IncomingMessage }>;
}

/**
 * Accepts every client upgrade and greets it with a welcome (epoch `fake`); like the broker it
 * pings every upstream every `pingMs` (the web server only watches for silence on this hop).
 * `pingMs: 0`: a broker that never pings, i.e. silent unless it sends frames.
 */
async function fakeBroker(opts: { pingMs?: number } = {}): Promise<FakeBroker> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const pingMs = opts.pingMs ?? 50;
  const pinger = pingMs > 0 ? setInterval(() => wss.clients.forEach((c) => c.ping()), pingMs) : undefined;
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const connections: FakeBroker['connections'] = [];
  const waiters: (() => void)[] = [];
  wss.on('connection', (ws, req) => {
    ws.on('error', () => undefined);
    const url = new URL(req.url!, 'http://x');
    const clientId = decodeURIComponent(url.pathname.split('/').pop()!);
    ws.send(JSON.stringify({ type: 'welcome', clientId, epoch: 'fake', resumed: url.searchParams.has('lastSeq'), replayed: 0, lastSeq: Number(url.searchParams.get('lastSeq') ?? 0), heartbeatMs: 5000, agents: [] }));
    connections.push({ ws, req });
    for (const w of waiters.splice(0)) w();
  });
  cleanups.push(() => {
    clearInterval(pinger);
    for (const c of wss.clients) c.terminate();
    return new Promise<void>((r) => wss.close(() => r()));
  });
  let taken = 0;
  return {
    wsUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    connections,
    async next() {
      const deadline = Date.now() + 5000;
      while (connections.length <= taken) {
        if (Date.now() > deadline) throw new Error('no upstream connection arrived');
        await new Promise<void>((r) => {
          const t = setTimeout(r, 100);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
      return connections[taken++]!;
    },
  };
}

async function web(brokerWsUrl: string, env: Record<string, string> = {}): Promise<WebServer> {
  const site = makeSite();
  cleanups.push(() => site.remove());
  const w = await startWeb(
    { STATIC_ASSETS_PATH: site.root, BROKER_URL: brokerWsUrl, HEARTBEAT_INTERVAL_MS: '50', HEARTBEAT_TIMEOUT_MS: '300', ...env },
    { backoff: { initialMs: 50, maxMs: 100 } },
  );
  cleanups.push(() => w.close());
  return w;
}

async function browserVia(w: WebServer, opts: WebSocket.ClientOptions = {}): Promise<TestSocket> {
  const s = await registerClient(w.url);
  const url = `${w.url.replace(/^http/, 'ws')}/ws/${s.clientId}?token=${s.token}`;
  const b = await TestSocket.open(url, opts);
  cleanups.push(() => b.ws.terminate());
  return b;
}

describe('close codes from the broker', () => {
  it.each([1000, 1008, 1009, 1013, 4500, 4999])('passes %i through to the browser with its reason', async (code) => {
    const fake = await fakeBroker();
    const w = await web(fake.wsUrl);
    const browser = await browserVia(w);
    await browser.next('welcome');
    const up = await fake.next();
    up.ws.close(code, `reason ${code}`);
    expect(await browser.waitClose()).toEqual({ code, reason: `reason ${code}` });
    // And it does not redial.
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.connections).toHaveLength(1);
  });

  it.each([1001, 1011, 4000, 'drop'] as const)('keeps the browser open on %s and redials with lastSeq and epoch', async (code) => {
    const fake = await fakeBroker();
    const w = await web(fake.wsUrl);
    const browser = await browserVia(w);
    await browser.next('welcome');
    const up = await fake.next();
    expect(up.req.headers.authorization).toBe('Bearer dev_proxy_token');
    up.ws.send(JSON.stringify({ type: 'message', seq: 7, id: 'm', from: 'default', data: { seq: 99 }, ts: 'now' }));
    await browser.next('message');
    // Key order is not guaranteed: the top-level seq counts, not one inside data.
    up.ws.send(JSON.stringify({ data: { seq: 98 }, type: 'system', event: 'x.test', seq: 8 }));
    await browser.event('x.test');
    if (code === 'drop') up.ws.terminate();
    else up.ws.close(code);
    expect(await browser.event('bridge.reconnecting')).toMatchObject({ retryInMs: expect.any(Number) });
    const again = await fake.next();
    const url = new URL(again.req.url!, 'http://x');
    expect(url.searchParams.get('lastSeq')).toBe('8');
    expect(url.searchParams.get('epoch')).toBe('fake');
    expect(await browser.event('bridge.reconnected')).toMatchObject({ epoch: 'fake', resumed: true, lastSeq: 8 });
    expect(browser.closed).toBeUndefined();
  });
});

describe('upstream liveness', () => {
  it('drops and redials an upstream whose broker goes silent', async () => {
    const fake = await fakeBroker({ pingMs: 0 });
    const w = await web(fake.wsUrl);
    const browser = await browserVia(w);
    await browser.next('welcome');
    await fake.next();
    const started = Date.now();
    await browser.event('bridge.reconnecting', 3000);
    expect(Date.now() - started).toBeLessThan(2000);
    await fake.next();
    expect(browser.closed).toBeUndefined();
  });

  it('keeps an upstream whose broker pings, and never pings it itself', async () => {
    const fake = await fakeBroker({ pingMs: 50 });
    const w = await web(fake.wsUrl); // HEARTBEAT_TIMEOUT_MS 300
    const browser = await browserVia(w);
    await browser.next('welcome');
    const up = await fake.next();
    let pingsFromWeb = 0;
    up.ws.on('ping', () => pingsFromWeb++);
    await new Promise((r) => setTimeout(r, 900)); // three timeouts
    expect(fake.connections).toHaveLength(1);
    expect(browser.frames.some((f) => f.type === 'system' && f.event === 'bridge.reconnecting')).toBe(false);
    expect(pingsFromWeb).toBe(0);
  });

  it('still pings the browser', async () => {
    const fake = await fakeBroker();
    const w = await web(fake.wsUrl); // HEARTBEAT_INTERVAL_MS 50
    const browser = await browserVia(w);
    await browser.next('welcome');
    let pings = 0;
    browser.ws.on('ping', () => pings++);
    await new Promise((r) => setTimeout(r, 400));
    expect(pings).toBeGreaterThanOrEqual(2);
  });
});

describe('redial schedule', () => {
  it('backs off 1×, 2× … while drops come quickly, and starts again once an upstream stayed up', async () => {
    const fake = await fakeBroker();
    const site = makeSite();
    cleanups.push(() => site.remove());
    const w = await startWeb(
      { STATIC_ASSETS_PATH: site.root, BROKER_URL: fake.wsUrl },
      { backoff: { initialMs: 40, maxMs: 10_000, jitter: 0 }, backoffResetAfterMs: 300 },
    );
    cleanups.push(() => w.close());
    const browser = await browserVia(w);
    await browser.next('welcome');
    const retries: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      (await fake.next()).ws.terminate();
      retries.push((await browser.event('bridge.reconnecting')).retryInMs);
    }
    expect(retries).toEqual([40, 80, 160]);
    const up = await fake.next();
    await browser.event('bridge.reconnected');
    await new Promise((r) => setTimeout(r, 450));
    up.ws.terminate();
    expect((await browser.event('bridge.reconnecting')).retryInMs).toBe(40);
  });
});

describe('shutdown', () => {
  it('close() sends 1001 to browsers and upstreams, and ends promptly', async () => {
    const fake = await fakeBroker();
    const site = makeSite();
    cleanups.push(() => site.remove());
    const w = await startWeb({ STATIC_ASSETS_PATH: site.root, BROKER_URL: fake.wsUrl });
    const browser = await browserVia(w);
    await browser.next('welcome');
    const up = await fake.next();
    const upClosed = new Promise<number>((r) => up.ws.once('close', (c) => r(c)));
    const started = Date.now();
    await w.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await browser.waitClose()).code).toBe(1001);
    expect(await upClosed).toBe(1001);
  });
});

describe('backpressure', () => {
  it('stops reading the upstream while the browser is slow, and delivers everything in order once it reads', async () => {
    const fake = await fakeBroker();
    const w = await web(fake.wsUrl, { SOCKET_BUFFER_BYTES: '65536', HEARTBEAT_TIMEOUT_MS: '30000', HEARTBEAT_INTERVAL_MS: '5000' });
    const browser = await browserVia(w);
    await browser.next('welcome');
    const up = await fake.next();
    // The browser stops reading (a frozen tab).
    const raw = (browser.ws as unknown as { _socket: import('node:net').Socket })._socket;
    raw.pause();
    const chunk = 'x'.repeat(256 * 1024);
    const total = 160; // 40 MiB: more than the kernel buffers on both hops together
    for (let seq = 1; seq <= total; seq++) {
      up.ws.send(JSON.stringify({ type: 'message', seq, id: String(seq), from: 'default', data: chunk, ts: 'now' }));
    }
    // If the web server kept reading, the broker's side would drain to nothing.
    await new Promise((r) => setTimeout(r, 500));
    expect(up.ws.bufferedAmount).toBeGreaterThan(8 * 1024 * 1024);
    raw.resume();
    const seqs: number[] = [];
    for (let i = 0; i < total; i++) seqs.push((await browser.next('message', 10_000)).seq as number);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(browser.closed).toBeUndefined();
  });
});
