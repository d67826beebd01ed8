/**
 * PROTOCOL §8 in the browser client, against a raw ws server playing the web server: ids on
 * every message and cancel, unaccepted ones held (bounded, in sessionStorage) and resent after
 * a reconnect or a reload, in order, until `accepted` or an error naming them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocketServer } from 'ws';
import { TestSocket } from '@agent-bridge/testkit';
import { createBridgeClient, type BridgeClient, type BridgeClientOptions } from '../src/index.ts';
import { MemoryStorage, NodeWebSocket, waitFor } from './helpers.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Accepts every upgrade; the test plays the bridge on each socket. */
async function fakeWeb(): Promise<{ url: string; sockets: TestSocket[]; urls: string[]; socket(n: number): Promise<TestSocket> }> {
  const sockets: TestSocket[] = [];
  const urls: string[] = [];
  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer((_q, r) => r.writeHead(404).end());
  server.on('upgrade', (req, s, head) => wss.handleUpgrade(req, s, head, (ws) => (urls.push(req.url ?? ''), sockets.push(new TestSocket(ws)))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets,
    urls,
    socket: async (n) => {
      await expect.poll(() => sockets.length, { timeout: 5000 }).toBeGreaterThan(n);
      return sockets[n]!;
    },
  };
}

const SESSION = { clientId: 'c-uuid', token: 't', expiresAt: '', lastSeq: 0, nextId: 1 };
function storageWithSession(): MemoryStorage {
  const s = new MemoryStorage();
  s.setItem('agent-bridge.session', JSON.stringify(SESSION));
  return s;
}
const welcome = (acks = true) => ({ type: 'welcome', clientId: 'c-uuid', epoch: 'e', resumed: true, replayed: 0, lastSeq: 0, heartbeatMs: 5000, agents: [], ...(acks ? { acks: true } : {}) });

function client(url: string, opts: BridgeClientOptions = {}): BridgeClient {
  const c = createBridgeClient({ baseUrl: url, storage: storageWithSession(), WebSocketImpl: NodeWebSocket, backoff: { initialMs: 20, maxMs: 50 }, ...opts });
  cleanup.push(() => c.close());
  return c;
}

describe('browser client §8', () => {
  test('unaccepted messages are resent after a reconnect, in order, with the same ids; accepted and refused ones are not', async () => {
    const web = await fakeWeb();
    const c = client(web.url);
    const ws = await web.socket(0);
    ws.send(welcome());
    await waitFor(c, 'welcome');
    const ids = [c.send('one'), c.send('two'), c.sendFrame({ type: 'cancel', runId: 'r1' }), c.send('four')];
    expect(ids).toEqual(['c-1', 'c-2', 'c-3', 'c-4']);
    for (let i = 0; i < 4; i++) await ws.next();
    const accepted = waitFor(c, 'accepted');
    ws.send({ type: 'accepted', ref: 'c-1' });
    expect(await accepted).toEqual({ ref: 'c-1' });
    ws.send({ type: 'error', code: 'rate_limited', message: 'slow down', ref: 'c-4' });
    await expect.poll(() => c.pending).toBe(2);
    ws.close(1001);
    const ws2 = await web.socket(1);
    ws2.send(welcome());
    const again = [await ws2.next(), await ws2.next()];
    expect(again).toEqual([
      { type: 'message', id: 'c-2', data: 'two' },
      { type: 'cancel', runId: 'r1', id: 'c-3' },
    ]);
    ws2.send({ type: 'accepted', ref: 'c-2' });
    ws2.send({ type: 'accepted', ref: 'c-3' });
    await expect.poll(() => c.pending).toBe(0);
  });

  test('asks for accepted=inline; accepteds riding on a frame settle their messages, announced before that frame', async () => {
    const web = await fakeWeb();
    const c = client(web.url);
    const ws = await web.socket(0);
    expect(new URL(web.urls[0]!, 'http://x').searchParams.get('accepted')).toBe('inline');
    ws.send(welcome());
    await waitFor(c, 'welcome');
    c.send('one');
    c.send('two');
    c.send('three');
    for (let i = 0; i < 3; i++) await ws.next();
    expect(c.pending).toBe(3);
    const seen: string[] = [];
    c.on('accepted', (a) => seen.push(`accepted ${a.ref}`));
    c.on('message', (m) => seen.push(`message ${m.seq}`));
    ws.send({ type: 'message', seq: 1, id: 'm1', from: 'default', data: 'hi', ts: '2026-11-26T00:00:00.000Z', accepted: ['c-1', 'c-2'] });
    await expect.poll(() => seen.length).toBe(3);
    expect(seen).toEqual(['accepted c-1', 'accepted c-2', 'message 1']);
    expect(c.pending).toBe(1);
    ws.send({ type: 'system', seq: 2, event: 'agent.connected', agent: 'x', ts: '2026-11-26T00:00:00.000Z', accepted: ['c-3'] });
    await expect.poll(() => c.pending).toBe(0);
    // Without acks the client asks for nothing of §8.
    const web2 = await fakeWeb();
    client(web2.url, { acks: false });
    await web2.socket(0);
    expect(new URL(web2.urls[0]!, 'http://x').searchParams.get('accepted')).toBeNull();
  });

  test('a message typed just before a crash survives in sessionStorage and goes out from the next page', async () => {
    const web = await fakeWeb();
    const storage = storageWithSession();
    const page1 = client(web.url, { storage });
    const ws = await web.socket(0);
    ws.send(welcome());
    await waitFor(page1, 'welcome');
    page1.send('my prompt');
    expect(await ws.next()).toEqual({ type: 'message', id: 'c-1', data: 'my prompt' });
    // The page dies (no accepted came): nothing of page1 runs any more.
    page1.suspend();
    expect(JSON.parse(storage.getItem('agent-bridge.session')!).unaccepted).toEqual([['c-1', '{"type":"message","id":"c-1","data":"my prompt"}']]);
    const page2 = client(web.url, { storage });
    const ws2 = await web.socket(1);
    ws2.send(welcome());
    expect(await ws2.next()).toEqual({ type: 'message', id: 'c-1', data: 'my prompt' });
    ws2.send({ type: 'accepted', ref: 'c-1' });
    await expect.poll(() => JSON.parse(storage.getItem('agent-bridge.session')!).unaccepted).toEqual([]);
    expect(page2.send('next')).toBe('c-2'); // ids never reused within the session
  });

  test('the bound: beyond outboxLimit unaccepted messages, send reports outbox_full and does not send', async () => {
    const web = await fakeWeb();
    const c = client(web.url, { outboxLimit: 2 });
    const ws = await web.socket(0);
    ws.send(welcome());
    await waitFor(c, 'welcome');
    c.send('a');
    c.send('b');
    const full = waitFor(c, 'error', (e) => e.code === 'outbox_full');
    const id = c.send('c');
    expect((await full).ref).toBe(id);
    ws.send({ type: 'accepted', ref: 'c-1' });
    await expect.poll(() => c.pending).toBe(1);
    c.send('d');
    const got = [await ws.next(), await ws.next(), await ws.next()].map((f) => f.data);
    expect(got).toEqual(['a', 'b', 'd']);
  });

  test('a bridge without acks in its welcome (v1), or acks:false: nothing is held once written', async () => {
    const web = await fakeWeb();
    const c = client(web.url, { outboxLimit: 1 });
    const ws = await web.socket(0);
    ws.send(welcome(false));
    await waitFor(c, 'welcome');
    c.send('a');
    c.send('b');
    expect(c.pending).toBe(0);
    expect((await ws.next()).data).toBe('a');
    const off = client(web.url, { acks: false, outboxLimit: 1 });
    const ws2 = await web.socket(1);
    ws2.send(welcome(true));
    await waitFor(off, 'welcome');
    off.send('a');
    off.send('b');
    expect(off.pending).toBe(0);
  });
});

test('after bridge.reconnected (the web server lost the broker) the held messages go again, in order', async () => {
  const web = await fakeWeb();
  const c = client(web.url);
  const ws = await web.socket(0);
  ws.send(welcome());
  await waitFor(c, 'welcome');
  c.send('in flight');
  c.send('also');
  await ws.next();
  await ws.next();
  ws.send({ type: 'accepted', ref: 'c-2' });
  ws.send({ type: 'system', event: 'bridge.reconnected', epoch: 'e', resumed: true, lastSeq: 0, ts: 'now' });
  expect(await ws.next()).toEqual({ type: 'message', id: 'c-1', data: 'in flight' });
});
