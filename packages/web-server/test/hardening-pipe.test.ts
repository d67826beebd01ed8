/**
 * Issue 9, the pipe: each finding of the attack review against a real web server on port 0, with
 * real sockets. Where the broker must misbehave (stop reading, refuse with 503) it is a small real
 * WebSocket server on 127.0.0.1 doing exactly that; otherwise the real in-process broker.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { connectBrowser, connectRawAgent, registerClient, TestSocket, type Frame } from '@agent-bridge/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebServer } from '../src/index.ts';
import { rawRequest, startTestBroker, startWeb } from './helpers.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function web(env: Record<string, string>): Promise<WebServer> {
  const w = await startWeb({ HEARTBEAT_INTERVAL_MS: '100', HEARTBEAT_TIMEOUT_MS: '5000', ...env }, { backoff: { initialMs: 100, maxMs: 200 } });
  cleanups.push(() => w.close());
  return w;
}

async function broker(env: Record<string, string> = {}) {
  const b = await startTestBroker({ HEARTBEAT_INTERVAL_MS: '100', HEARTBEAT_TIMEOUT_MS: '5000', SESSION_TTL_MS: '10000', CLIENT_RATE_BURST: '100000', ...env });
  cleanups.push(() => b.close());
  return b;
}

function track<T extends TestSocket>(s: T): T {
  cleanups.push(() => s.ws.terminate());
  return s;
}

const event = (name: string, clientId: string) => (f: Frame) => f.type === 'system' && f.event === name && f.clientId === clientId;

/** A counter of /metrics (loopback callers may read it without METRICS_TOKEN). */
async function metric(w: WebServer, line: string): Promise<number> {
  const res = await rawRequest(w.url, '/metrics');
  const m = new RegExp(`^${line.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)`, 'm').exec(res.text);
  return m ? Number(m[1]) : 0;
}

/**
 * A broker stand-in that accepts every upstream, sends a welcome, and then stops reading
 * (the TCP socket is paused), like a broker too busy to keep up. `resume()` reads again.
 */
async function stalledBroker() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 1 << 20 });
  await new Promise((r) => wss.once('listening', r));
  const sockets: WebSocket[] = [];
  let received = 0;
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('message', () => received++);
    ws.send(JSON.stringify({ type: 'welcome', clientId: 'x', epoch: 'e', resumed: false, replayed: 0, lastSeq: 0, heartbeatMs: 100, agents: [] }));
    setImmediate(() => (ws as unknown as { _socket: { pause(): void } })._socket.pause());
  });
  cleanups.push(() => new Promise((r) => wss.close(r)));
  cleanups.push(() => sockets.forEach((s) => s.terminate()));
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    received: () => received,
    resume: () => sockets.forEach((s) => (s as unknown as { _socket: { resume(): void } })._socket.resume()),
  };
}

describe('browser → broker backpressure', () => {
  it('stops reading a browser while its upstream buffers more than SOCKET_BUFFER_BYTES, and resumes on drain', async () => {
    const stalled = await stalledBroker();
    const w = await web({ BROKER_URL: stalled.url, SOCKET_BUFFER_BYTES: '65536', MAX_MESSAGE_BYTES: '70000', CLIENT_RATE_BURST: '100000', PIPE_PAUSE_MAX_MS: '60000' });
    const browser = track(await connectBrowser(w.url, await registerClient(w.url)));
    await browser.next('welcome');
    const frame = JSON.stringify({ type: 'message', data: 'x'.repeat(60_000) });
    const total = 600; // 36 MB: more than the kernel buffers of both hops can absorb
    for (let i = 0; i < total; i++) browser.ws.send(frame);
    // Without backpressure the web server reads all of it into its upstream's buffer (memory).
    // With it, what it forwards is bounded by the kernel buffers plus SOCKET_BUFFER_BYTES.
    await new Promise((r) => setTimeout(r, 1500));
    const forwarded = await metric(w, 'agent_bridge_frames_out_total{kind="upstream",type="any"}');
    expect(forwarded).toBeGreaterThan(0);
    expect(forwarded).toBeLessThan(total * 0.75);
    expect(browser.ws.bufferedAmount).toBeGreaterThan(0);
    // The broker reads again: everything arrives.
    stalled.resume();
    await expect.poll(() => stalled.received(), { timeout: 15_000 }).toBe(total);
  }, 25_000);
});

describe('liveness', () => {
  it('terminates a browser that stopped reading but sends unsolicited pongs', async () => {
    const b = await broker();
    const w = await web({ BROKER_URL: b.wsUrl, HEARTBEAT_INTERVAL_MS: '50', HEARTBEAT_TIMEOUT_MS: '400' });
    const agent = track(await connectRawAgent(b.url));
    await agent.next('welcome');
    const session = await registerClient(w.url);
    const browser = track(await connectBrowser(w.url, session));
    await browser.next('welcome');
    await agent.next(event('client.connected', session.clientId));
    // Stop reading (our pings go unseen) and send pongs blindly.
    (browser.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const pongs = setInterval(() => browser.ws.pong(Buffer.from('alive')), 20);
    cleanups.push(() => clearInterval(pongs));
    const gone = await agent.next(event('client.disconnected', session.clientId), 4000);
    expect(gone).toMatchObject({ resumable: true });
  });

  it('closes a pipe paused for longer than PIPE_PAUSE_MAX_MS with 1013 (the session stays resumable)', async () => {
    // A broker patient enough never to close the slow client itself: only the pause cap acts.
    const b = await broker({ MAILBOX_LIMIT: '100000', SOCKET_BUFFER_BYTES: '67108864' });
    // A long heartbeat timeout: only the pause cap can end this pipe within the test.
    const w = await web({ BROKER_URL: b.wsUrl, HEARTBEAT_TIMEOUT_MS: '60000', SOCKET_BUFFER_BYTES: '1024', PIPE_PAUSE_MAX_MS: '500' });
    const agent = track(await connectRawAgent(b.url));
    await agent.next('welcome');
    const session = await registerClient(w.url);
    const browser = track(await connectBrowser(w.url, session));
    await browser.next('welcome');
    await agent.next(event('client.connected', session.clientId));
    (browser.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = 'y'.repeat(30_000);
    for (let i = 0; i < 400; i++) agent.send({ type: 'send', to: session.clientId, data: big });
    const gone = await agent.next(event('client.disconnected', session.clientId), 8000);
    expect(gone).toMatchObject({ resumable: true });
    expect(await metric(w, 'agent_bridge_pipe_pause_closes_total')).toBe(1);
  }, 15_000);
});

describe('edge frame rate limit', () => {
  it('answers frames beyond the bucket with rate_limited (ref) without forwarding them, and closes a flood with 1008', async () => {
    const b = await broker();
    const w = await web({ BROKER_URL: b.wsUrl, CLIENT_RATE_PER_SEC: '1', CLIENT_RATE_BURST: '3' });
    const agent = track(await connectRawAgent(b.url));
    await agent.next('welcome');
    const browser = track(await connectBrowser(w.url, await registerClient(w.url)));
    await browser.next('welcome');
    for (let i = 0; i < 6; i++) browser.send({ type: 'message', id: `c-${i}`, data: i });
    for (const ref of ['c-3', 'c-4', 'c-5']) expect(await browser.next((f) => f.type === 'error' && f.ref === ref)).toMatchObject({ code: 'rate_limited' });
    const got = await agent.collectFor(300, 'client.message');
    expect(got.map((f) => f.ref)).toEqual(['c-0', 'c-1', 'c-2']);
    // 10 × burst refusals in a row: abuse.
    for (let i = 0; i < 40; i++) browser.send({ type: 'message', data: i });
    expect((await browser.waitClose()).code).toBe(1008);
  });
});

describe('upgrade rate limits (429 before the upgrade)', () => {
  it('per clientId: one token cannot reconnect in a loop', async () => {
    const b = await broker();
    const w = await web({ BROKER_URL: b.wsUrl, WS_UPGRADES_PER_MIN_PER_CLIENT: '3' });
    const session = await registerClient(w.url);
    for (let i = 0; i < 3; i++) {
      const s = track(await connectBrowser(w.url, session));
      await s.next('welcome');
      s.ws.terminate();
    }
    const refused = await connectBrowser(w.url, session).then(
      () => undefined,
      (err: { status?: number; body?: string }) => err,
    );
    expect(refused?.status).toBe(429);
    expect(JSON.parse(refused!.body!)).toMatchObject({ error: { code: 'rate_limited' } });
    // Another client is not affected.
    track(await connectBrowser(w.url, await registerClient(w.url)));
  });

  it('per IP', async () => {
    const b = await broker();
    const w = await web({ BROKER_URL: b.wsUrl, WS_UPGRADES_PER_MIN_PER_IP: '3' });
    for (let i = 0; i < 3; i++) track(await connectBrowser(w.url, await registerClient(w.url)));
    await expect(connectBrowser(w.url, await registerClient(w.url))).rejects.toMatchObject({ status: 429 });
  });
});

describe('during a broker outage', () => {
  /** A port with nothing listening: every dial fails. */
  const DEAD_BROKER = 'ws://127.0.0.1:1';

  it('keeps one socket per clientId: a newer one replaces the older with 4500', async () => {
    const w = await web({ BROKER_URL: DEAD_BROKER });
    const session = await registerClient(w.url);
    const first = track(await connectBrowser(w.url, session));
    await first.event('bridge.reconnecting');
    const second = track(await connectBrowser(w.url, session));
    expect(await first.waitClose()).toMatchObject({ code: 4500 });
    await second.event('bridge.reconnecting');
    expect(second.closed).toBeUndefined();
  });

  it('holds frames up to OUTAGE_HOLD_BYTES across all clients; beyond, over_capacity with ref', async () => {
    const w = await web({ BROKER_URL: DEAD_BROKER, OUTAGE_HOLD_BYTES: '1000' });
    const a = track(await connectBrowser(w.url, await registerClient(w.url)));
    const b = track(await connectBrowser(w.url, await registerClient(w.url)));
    const pad = 'p'.repeat(400);
    a.send({ type: 'message', id: 'a-1', data: pad });
    b.send({ type: 'message', id: 'b-1', data: pad });
    b.send({ type: 'message', id: 'b-2', data: pad });
    expect(await b.next('error')).toMatchObject({ code: 'over_capacity', ref: 'b-2' });
    expect(a.all('error')).toEqual([]);
  });
});

describe('broker session budget', () => {
  /** A broker stand-in that refuses every upstream with 503 over_capacity and records X-Client-Ip. */
  async function refusingBroker() {
    const seen = { dials: 0, clientIp: undefined as string | undefined };
    const server = http.createServer();
    server.on('upgrade', (req, socket) => {
      seen.dials++;
      seen.clientIp = req.headers['x-client-ip'] as string | undefined;
      const body = JSON.stringify({ error: { code: 'over_capacity', message: 'too many sessions' } });
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    return { seen, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  it('X-Client-Ip is the browser as TRUST_PROXY resolves it, never a forwarded value that is not an address', async () => {
    const broker = await refusingBroker();
    const w = await web({ BROKER_URL: broker.url, TRUST_PROXY: '2' });
    const session = await registerClient(w.url);
    const u = `${w.url.replace('http', 'ws')}/ws/${session.clientId}?token=${session.token}`;
    const s = track(await TestSocket.open(u, { headers: { 'x-forwarded-for': 'not-an-address, 203.0.113.5' } }));
    await s.waitClose();
    expect(broker.seen.clientIp).toBe('203.0.113.5');
  });

  it('closes the browser 1013 "over capacity" when the broker refuses the upstream with 503 over_capacity, and sends X-Client-Ip', async () => {
    let dials = 0;
    let clientIp: string | undefined;
    const refusing = http.createServer();
    refusing.on('upgrade', (req, socket) => {
      dials++;
      clientIp = req.headers['x-client-ip'] as string | undefined;
      const body = JSON.stringify({ error: { code: 'over_capacity', message: 'too many sessions' } });
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    });
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => refusing.close(r)));
    const w = await web({ BROKER_URL: `ws://127.0.0.1:${(refusing.address() as AddressInfo).port}` });
    const browser = track(await connectBrowser(w.url, await registerClient(w.url)));
    const closed = await browser.waitClose();
    expect(closed.code).toBe(1013);
    expect(closed.reason).toMatch(/over capacity/);
    expect(clientIp).toBe('127.0.0.1');
    // Not redialled for ever.
    await new Promise((r) => setTimeout(r, 400));
    expect(dials).toBe(1);
  });
});
