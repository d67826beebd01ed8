// The SDK against the real broker, in process; raw ws clients stand in for the web server upstream.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { loadConfig } from '@agent-bridge/common';
import { startBroker } from '@agent-bridge/websocket-server';
import { TcpProxy, TestSocket } from '@agent-bridge/testkit';
import { connectAgent, type Agent, type ConnectAgentOptions } from '../src/index.ts';
import { FAST_BACKOFF, nextEvent, record, silent, sleep } from './helpers.ts';

type Broker = Awaited<ReturnType<typeof startBroker>>;

const ENV = {
  WEBSOCKET_SERVER_ADDR: '127.0.0.1:0',
  LOG_LEVEL: 'silent',
  HEARTBEAT_INTERVAL_MS: '50',
  HEARTBEAT_TIMEOUT_MS: '300',
  SESSION_TTL_MS: '5000',
};

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

async function broker(port = 0): Promise<Broker> {
  // A restart on the same port can race the old socket's release: retry briefly.
  for (let i = 0; ; i++) {
    try {
      const b = await startBroker(loadConfig({ ...ENV, WEBSOCKET_SERVER_ADDR: `127.0.0.1:${port}` }), { logger: silent });
      cleanup.push(() => b.close());
      return b;
    } catch (err) {
      if (port === 0 || i >= 20) throw err;
      await sleep(50);
    }
  }
}

function agentAt(url: string, over: Partial<ConnectAgentOptions> = {}): Agent {
  const agent = connectAgent({ url, token: 'dev_token', logger: silent, heartbeatTimeoutMs: 300, backoff: FAST_BACKOFF, ...over });
  cleanup.push(() => agent.close());
  return agent;
}

async function welcomedAgent(url: string, over: Partial<ConnectAgentOptions> = {}): Promise<Agent> {
  const agent = agentAt(url, over);
  await nextEvent(agent, 'welcome');
  return agent;
}

/** A raw upstream client, as the web server would open it. */
async function client(b: { wsUrl: string }, clientId = randomUUID()): Promise<TestSocket & { id: string }> {
  const ws = await TestSocket.open(`${b.wsUrl}/ws/client/${clientId}`, { headers: { Authorization: 'Bearer dev_proxy_token' } });
  cleanup.push(() => ws.close(1000));
  await ws.next('welcome');
  return Object.assign(ws, { id: clientId });
}

const text = (f: Record<string, unknown>) => (f.data as { text?: unknown }).text;

describe('with the real broker', () => {
  test('welcome, then a message round trip', async () => {
    const b = await broker();
    const agent = await welcomedAgent(b.wsUrl);
    expect(agent.connected).toBe(true);
    expect(agent.agentId).toEqual(expect.any(String));
    agent.on('message', (msg) => agent.reply(msg, { text: `you said ${JSON.stringify(msg.data)}` }));
    const c = await client(b);
    const [msg] = await Promise.all([nextEvent(agent, 'message'), c.send({ type: 'message', id: 'c-1', data: { text: 'hi' } })]);
    expect(msg[0]).toMatchObject({ type: 'client.message', clientId: c.id, ref: 'c-1', address: null, data: { text: 'hi' } });
    const reply = await c.next('message');
    expect(reply).toMatchObject({ type: 'message', from: 'default', data: { text: 'you said {"text":"hi"}' } });
  });

  test('the welcome lists clients already there; send to a list reaches each', async () => {
    const b = await broker();
    const c1 = await client(b);
    const c2 = await client(b);
    const agent = await welcomedAgent(b.wsUrl);
    expect(new Set(agent.clients.keys())).toEqual(new Set([c1.id, c2.id]));
    expect(agent.clients.get(c1.id)).toMatchObject({ clientId: c1.id, address: null, connected: true });
    agent.send([c1.id, c2.id], { text: 'both' });
    expect(text(await c1.next('message'))).toBe('both');
    expect(text(await c2.next('message'))).toBe('both');
  });

  test('broadcast with except skips the excepted client', async () => {
    const b = await broker();
    const agent = await welcomedAgent(b.wsUrl);
    const [c1, c2, c3] = [await client(b), await client(b), await client(b)];
    await expect.poll(() => agent.clients.size === 3, { timeout: 5000, message: 'three clients known' }).toBe(true);
    agent.broadcast({ text: 'all but two' }, { except: [c2.id] });
    agent.send(c2.id, { text: 'direct' });
    expect(text(await c1.next('message'))).toBe('all but two');
    expect(text(await c3.next('message'))).toBe('all but two');
    // Per-client order is kept, so if c2 had got the broadcast it would come first.
    expect(text(await c2.next('message'))).toBe('direct');
  });

  test('unknown clients: delivered to the known ones, one unknown_client error event', async () => {
    const b = await broker();
    const agent = await welcomedAgent(b.wsUrl);
    const c1 = await client(b);
    await expect.poll(() => agent.clients.has(c1.id), { timeout: 5000 }).toBe(true);
    const error = nextEvent(agent, 'error');
    const id = agent.send([c1.id, 'no-such-client'], { text: 'x' });
    const [e] = await error;
    expect(e).toMatchObject({ type: 'error', code: 'unknown_client', ref: id, clientIds: ['no-such-client'] });
    expect(text(await c1.next('message'))).toBe('x');
  });

  test('lifecycle events keep agent.clients current', async () => {
    const b = await broker();
    const agent = await welcomedAgent(b.wsUrl);
    const connected = nextEvent(agent, 'client.connected');
    const c = await client(b);
    expect((await connected)[0]).toMatchObject({ clientId: c.id, address: null });
    expect(agent.clients.get(c.id)).toEqual({ clientId: c.id, address: null, connected: true });
    const disconnected = nextEvent(agent, 'client.disconnected');
    const expired = nextEvent(agent, 'client.expired');
    c.close(1000); // a normal close ends the session: disconnected (not resumable), then expired
    expect((await disconnected)[0]).toMatchObject({ clientId: c.id, resumable: false });
    expect((await expired)[0]).toMatchObject({ clientId: c.id });
    expect(agent.clients.has(c.id)).toBe(false);
  });

  test('a resumable disconnect keeps the client known, marked away', async () => {
    const b = await broker();
    const agent = await welcomedAgent(b.wsUrl);
    const c = await client(b);
    await expect.poll(() => agent.clients.has(c.id), { timeout: 5000 }).toBe(true);
    const disconnected = nextEvent(agent, 'client.disconnected');
    c.close(1001);
    expect((await disconnected)[0]).toMatchObject({ clientId: c.id, resumable: true });
    expect(agent.clients.get(c.id)).toMatchObject({ connected: false });
  });

  test('a bad token: unauthorized, then stopped, no redial', async () => {
    const b = await broker();
    const agent = agentAt(b.wsUrl, { token: 'wrong' });
    const events = record(agent, ['open', 'welcome', 'unauthorized', 'close', 'reconnecting']);
    const [u] = await nextEvent(agent, 'unauthorized');
    expect(u.status).toBe(401);
    await sleep(300); // fifteen first-step backoffs
    expect(events.map((e) => e.event)).toEqual(['unauthorized', 'close']);
    expect(agent.state).toBe('stopped');
  });

  test('the broker closed and restarted on the same port: the agent comes back by itself', async () => {
    const b1 = await broker();
    const agent = await welcomedAgent(b1.wsUrl);
    // The user's code, set up once.
    agent.on('message', (msg) => agent.reply(msg, { text: `echo ${String((msg.data as { text: string }).text)}` }));
    const closed = nextEvent(agent, 'close');
    await b1.close();
    expect((await closed)[0].willReconnect).toBe(true);
    await nextEvent(agent, 'reconnecting');
    const b2 = await broker(b1.port);
    await expect.poll(() => agent.connected, { timeout: 5000, message: 'the agent to be welcomed again' }).toBe(true);
    const c = await client(b2);
    c.send({ type: 'message', id: 'c-1', data: { text: 'again' } });
    expect(await c.next('message')).toMatchObject({ from: 'default', data: { text: 'echo again' } });
  });

  test("a restarted broker: the agent redials once its /readyz answers, not at its next backoff step", async () => {
    const b1 = await broker();
    // A 4-s step (3.2–4.8 s): the broker is back long before it.
    const agent = await welcomedAgent(b1.wsUrl, { backoff: { initialMs: 4000, maxMs: 60_000 } });
    const waiting = nextEvent(agent, 'reconnecting');
    await b1.close();
    const [{ delayMs }] = await waiting;
    const lost = performance.now();
    const welcomed = nextEvent(agent, 'welcome', 5000);
    await broker(b1.port);
    const back = performance.now();
    await welcomed;
    // The probe asks every second (+ up to 250 ms of jitter).
    expect(performance.now() - back).toBeLessThan(1600);
    expect(performance.now() - lost).toBeLessThan(delayMs - 1000);
  });

  test('a broker that stays away: no early redial, each failed dial waits its step (§5)', async () => {
    const b1 = await broker();
    const agent = await welcomedAgent(b1.wsUrl, { backoff: { initialMs: 300, maxMs: 60_000 } });
    const events = record(agent, ['reconnecting']);
    const at: number[] = [];
    agent.on('reconnecting', () => at.push(performance.now()));
    await b1.close();
    await expect.poll(() => events.length, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    const delays = events.map((e) => (e.args[0] as { delayMs: number }).delayMs);
    expect(delays[1]).toBeGreaterThanOrEqual(480);
    expect(delays[2]).toBeGreaterThanOrEqual(960);
    for (let i = 1; i < 3; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(delays[i - 1]! - 5);
  });

  test('once per outage: a broker whose /readyz answers but which refuses the upgrade is redialled on the schedule after one early dial', async () => {
    // /readyz 200, every upgrade refused 503 (retryable).
    const server = http.createServer((req, res) => res.writeHead(req.url === '/readyz' ? 200 : 404).end());
    server.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\r\n{"error":{"code":"unavailable"}}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    const { port } = server.address() as AddressInfo;
    const agent = agentAt(`ws://127.0.0.1:${port}`, { backoff: { initialMs: 1500, maxMs: 60_000 } });
    const at: number[] = [];
    const delays: number[] = [];
    agent.on('reconnecting', (e) => {
      at.push(performance.now());
      delays.push(e.delayMs);
    });
    await expect.poll(() => at.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    // The first wait may be cut short by the probe; the second runs its full step (2.4–3.6 s).
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(delays[1]! - 5);
  }, 20_000);

  test('frames sent while the link is down are flushed in order after the reconnect', async () => {
    const b = await broker();
    const proxy = new TcpProxy(b.port);
    await proxy.listen();
    cleanup.push(() => proxy.close());
    const agent = await welcomedAgent(`ws://127.0.0.1:${proxy.port}`);
    const c = await client(b);
    await expect.poll(() => agent.clients.has(c.id), { timeout: 5000 }).toBe(true);
    proxy.block();
    const closed = nextEvent(agent, 'close');
    proxy.cut();
    await closed;
    expect(agent.connected).toBe(false);
    for (let i = 1; i <= 5; i++) agent.send(c.id, { text: `m${i}` });
    agent.broadcast({ text: 'b6' });
    expect(agent.pending).toBe(6);
    await sleep(100); // some redials fail against the blocked proxy
    proxy.unblock();
    await nextEvent(agent, 'welcome', 5000);
    const got: unknown[] = [];
    for (let i = 0; i < 6; i++) got.push(text(await c.next('message')));
    expect(got).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'b6']);
    // §8: held until the broker answered accepted for each.
    await expect.poll(() => agent.pending).toBe(0);
  });

  test('outbox full while the link is down: send throws outbox_full', async () => {
    const b = await broker();
    const proxy = new TcpProxy(b.port);
    await proxy.listen();
    cleanup.push(() => proxy.close());
    const agent = await welcomedAgent(`ws://127.0.0.1:${proxy.port}`, { outboxLimit: 2 });
    const c = await client(b);
    await expect.poll(() => agent.clients.has(c.id), { timeout: 5000 }).toBe(true);
    proxy.block();
    const closed = nextEvent(agent, 'close');
    proxy.cut();
    await closed;
    agent.send(c.id, { text: 'one' });
    agent.send(c.id, { text: 'two' });
    expect(() => agent.send(c.id, { text: 'three' })).toThrow(expect.objectContaining({ code: 'outbox_full' }));
    proxy.unblock();
    expect(text(await c.next('message', 5000))).toBe('one');
    expect(text(await c.next('message'))).toBe('two');
    await expect.poll(() => agent.connected, { timeout: 5000 }).toBe(true);
    // §8: room again once the broker accepted the two held frames.
    await expect.poll(() => agent.pending).toBe(0);
    agent.send(c.id, { text: 'three' });
    expect(text(await c.next('message'))).toBe('three');
  });

  test("the broker's heartbeat keeps a quiet link alive (no false silence)", async () => {
    const b = await broker();
    const agent = await welcomedAgent(b.wsUrl, { heartbeatTimeoutMs: 300 });
    const events = record(agent, ['close', 'reconnecting']);
    await sleep(1000);
    expect(events).toEqual([]);
    expect(agent.connected).toBe(true);
  });

  test('close() ends the link for good: clients see the agent go, it never comes back', async () => {
    const b = await broker();
    const agent = await welcomedAgent(b.wsUrl);
    const c = await client(b);
    await expect.poll(() => agent.clients.has(c.id), { timeout: 5000 }).toBe(true);
    await agent.close();
    await c.event('agent.disconnected', 5000);
    await sleep(300);
    expect(c.frames.some((f) => f.type === 'system' && f.event === 'agent.connected')).toBe(false);
    expect(agent.state).toBe('stopped');
  });
});
