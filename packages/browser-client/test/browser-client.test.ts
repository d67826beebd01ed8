/**
 * The browser client against the real broker, web server and demo agent (Node's `ws` stands in
 * for the browser's WebSocket, an in-memory Storage for sessionStorage).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRawAgent, startStack, type Stack, type TestSocket } from '@agent-bridge/testkit';
import { createBridgeClient, type BridgeClient, type BridgeClientOptions } from '../src/index.ts';
import { FreezableProxy, MemoryStorage, NodeWebSocket, textIs, waitFor } from './helpers.ts';

let stack: Stack;
const clients: BridgeClient[] = [];

function client(opts: BridgeClientOptions = {}): BridgeClient {
  const c = createBridgeClient({
    baseUrl: stack.webUrl,
    storage: new MemoryStorage(),
    WebSocketImpl: NodeWebSocket,
    backoff: { initialMs: 100, maxMs: 400 },
    ...opts,
  });
  clients.push(c);
  return c;
}

const token = () => Math.random().toString(36).slice(2, 10);

beforeAll(async () => {
  stack = await startStack({
    agent: true,
    env: { HEARTBEAT_INTERVAL_MS: '100', HEARTBEAT_TIMEOUT_MS: '800', SESSION_TTL_MS: '15000' },
  });
}, 30_000);

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await stack?.close();
});

describe('browser client', () => {
  it('registers, connects, sends and receives the agent reply', async () => {
    const storage = new MemoryStorage();
    const c = client({ storage });
    const welcome = await waitFor(c, 'welcome');
    expect(welcome.resumed).toBe(false);
    expect(welcome.gap).toBe(false);
    expect(c.status.state).toBe('connected');
    expect(c.agents).toContain('default');
    const text = `hello ${token()}`;
    const id = c.send({ text: `echo ${text}` });
    expect(id).toMatch(/^c-\d+$/);
    const reply = await waitFor(c, 'message', textIs(text));
    expect(reply.from).toBe('default');
    const saved = JSON.parse(storage.getItem('agent-bridge.session')!);
    expect(saved).toMatchObject({ clientId: welcome.clientId, epoch: welcome.epoch, lastSeq: reply.seq });
    expect(typeof saved.token).toBe('string');
  });

  it('queues messages sent before the welcome and delivers them in order', async () => {
    const c = client();
    const a = token();
    const b = token();
    const got: unknown[] = [];
    c.on('message', (m) => got.push(textOf(m.data)));
    c.send({ text: `echo ${a}` });
    c.send({ text: `echo ${b}` });
    expect(c.status.state).not.toBe('connected'); // both were sent before any welcome
    await waitFor(c, 'message', textIs(b));
    expect(got).toEqual([a, b]);
  });

  it('resumes the same session from storage and gets what was sent while it was away', async () => {
    const storage = new MemoryStorage();
    const c1 = client({ storage });
    const w1 = await waitFor(c1, 'welcome');
    c1.send({ text: 'echo first' });
    await waitFor(c1, 'message', textIs('first'));
    c1.suspend(); // like a page reload: the socket goes, the session stays

    // An agent writes to the session while no socket is there.
    const other: TestSocket = await connectRawAgent(stack.brokerUrl, { name: 'tester' });
    try {
      await other.next('welcome');
      const away = `while away ${token()}`;
      other.send({ type: 'send', to: w1.clientId, data: { text: away } });
      // A marker: the broker handles one agent's frames in order, so once this send to nobody is
      // answered, the one before it is stored for the away session (no sleep needed).
      other.send({ type: 'send', to: 'nobody-marker', data: {} });
      expect(await other.next('error')).toMatchObject({ code: 'unknown_client' });

      const c2 = client({ storage }); // a new page on the same sessionStorage
      const [w2, missed] = await Promise.all([waitFor(c2, 'welcome'), waitFor(c2, 'message', textIs(away))]);
      expect(w2.clientId).toBe(w1.clientId);
      expect(w2.resumed).toBe(true);
      expect(w2.gap).toBe(false);
      expect(missed.from).toBe('tester');
      // and the resumed session still talks to the agent
      const after = token();
      c2.send({ text: `echo ${after}` });
      await waitFor(c2, 'message', textIs(after));
      expect(c2.session?.clientId).toBe(w1.clientId);
    } finally {
      other.close();
    }
  });

  it('registers again when its stored token is refused (401 at connect)', async () => {
    const storage = new MemoryStorage();
    storage.setItem(
      'agent-bridge.session',
      JSON.stringify({ clientId: '00000000-0000-4000-8000-000000000000', token: 'not.a.jwt', expiresAt: '', lastSeq: 3, epoch: 'old', nextId: 7 }),
    );
    const c = client({ storage });
    const gap = waitFor(c, 'gap');
    const w = await waitFor(c, 'welcome');
    expect(w.clientId).not.toBe('00000000-0000-4000-8000-000000000000');
    expect((await gap).reason).toBe('new_session');
    expect(c.send({ text: 'echo x' })).toBe('c-7'); // ids keep counting: never reused
    await waitFor(c, 'message', textIs('x'));
  });

  it('does not reconnect when replaced by a newer connection (4500)', async () => {
    const storage = new MemoryStorage();
    const c1 = client({ storage });
    await waitFor(c1, 'welcome');
    const copy = new MemoryStorage();
    copy.setItem('agent-bridge.session', storage.getItem('agent-bridge.session')!);
    const offline = waitFor(c1, 'status', (s) => s.state === 'offline');
    const c2 = client({ storage: copy });
    await waitFor(c2, 'welcome');
    const s = await offline;
    expect(s).toMatchObject({ state: 'offline', code: 4500 });
    await new Promise((r) => setTimeout(r, 400)); // longer than the test backoff
    expect(c1.status.state).toBe('offline');
    expect(c2.status.state).toBe('connected');
  });

  it('treats a silent socket as dead and resumes over a new one', async () => {
    const proxy = new FreezableProxy(stack.web.port);
    await proxy.listen();
    try {
      const c = client({ baseUrl: `http://127.0.0.1:${proxy.port}` });
      const w1 = await waitFor(c, 'welcome');
      proxy.freeze(); // no bytes, no pings, no close: only the watchdog can tell
      const reconnecting = await waitFor(c, 'status', (s) => s.state === 'reconnecting', 5000);
      expect(reconnecting).toMatchObject({ cause: 'socket' });
      const w2 = await waitFor(c, 'welcome', () => true, 8000);
      expect(w2.clientId).toBe(w1.clientId);
      const t = token();
      c.send({ text: `echo ${t}` });
      await waitFor(c, 'message', textIs(t));
    } finally {
      await proxy.close();
    }
  });

  it('shows the broker restart as reconnecting and recovers', async () => {
    const c = client();
    const before = await waitFor(c, 'welcome');
    const reconnecting = waitFor(c, 'status', (s) => s.state === 'reconnecting', 15_000);
    const systemReconnected = waitFor(c, 'system', (f) => f.event === 'bridge.reconnected', 20_000);
    await stack.broker.restart();
    expect(await reconnecting).toMatchObject({ cause: 'bridge' });
    const back = await systemReconnected;
    // A restarted broker has no state: a new epoch, and the cursor follows it.
    expect(back.epoch).not.toBe(before.epoch);
    expect(c.session).toMatchObject({ clientId: before.clientId, epoch: back.epoch, lastSeq: back.lastSeq });
    expect(c.status.state).toBe('connected');
    const t = token();
    c.send({ text: `echo ${t}` });
    await waitFor(c, 'message', textIs(t), 15_000);
  }, 40_000);
});

function textOf(data: unknown): unknown {
  return (data as { text?: unknown }).text;
}
