// The mailbox's write path on real sockets: one write per turn, backpressure unchanged by it.
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { LAZY_HOLD_MAX, LAZY_HOLD_MS, Mailbox, type OutItem } from '../src/mailbox.ts';

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

/** A server-side ws (what the mailbox writes to) and the client that reads it. */
async function pair(): Promise<{ server: WebSocket; client: WebSocket; received: string[] }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await once(wss, 'listening');
  const accepted = once(wss, 'connection');
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`, { perMessageDeflate: false });
  const [server] = (await accepted) as [WebSocket];
  await once(client, 'open');
  const received: string[] = [];
  client.on('message', (d) => received.push(d.toString()));
  cleanup.push(() => (client.terminate(), server.terminate(), wss.close()));
  return { server, client, received };
}

const socketOf = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket;
const item = (payload: string, kind: OutItem['kind'] = 'direct', seq?: number): OutItem => ({ payload, kind, type: 'message', seq });
const until = async (cond: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('frames pushed in one turn are held corked and leave together at the end of the turn', async () => {
  const { server, received } = await pair();
  const mb = new Mailbox(server, { limit: 10, socketBufferBytes: 65536 });
  for (let i = 0; i < 20; i++) expect(mb.push(item(`f${i}`))).toBe(true);
  expect(socketOf(server).writableCorked).toBe(1);
  expect(server.bufferedAmount).toBeGreaterThan(0); // corked bytes count as buffered
  await new Promise((r) => setImmediate(r));
  expect(socketOf(server).writableCorked).toBe(0);
  await until(() => received.length === 20);
  expect(received).toEqual(Array.from({ length: 20 }, (_, i) => `f${i}`));
  mb.close();
});

test('a burst beyond socketBufferBytes to a reading peer is written out, not queued and dropped', async () => {
  const { server, received } = await pair();
  const drops: OutItem[] = [];
  const mb = new Mailbox(server, { limit: 5, socketBufferBytes: 65536 }, { onDrop: (d) => drops.push(d) });
  const chunk = 'b'.repeat(20_000);
  // 40 × 20 KB in one turn: the kernel takes it; only the cork would make it look slow.
  for (let i = 0; i < 40; i++) mb.push(item(`${i}:${chunk}`, 'broadcast', i + 1));
  expect(drops).toEqual([]);
  await until(() => received.length === 40);
  expect(received.map((r) => Number(r.split(':')[0]))).toEqual(Array.from({ length: 40 }, (_, i) => i));
  mb.close();
});

test('a peer that does not read still fills the mailbox: backpressure is intact', async () => {
  const { server, client } = await pair();
  socketOf(client).pause();
  const drops: OutItem[] = [];
  const mb = new Mailbox(server, { limit: 5, socketBufferBytes: 65536, pollMs: 5 }, { onDrop: (d) => drops.push(d) });
  const chunk = 'p'.repeat(60_000);
  let refused = false;
  for (let i = 0; i < 400 && !refused; i++) {
    refused = !mb.push(item(chunk));
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  expect(refused).toBe(true); // a direct frame that cannot fit: the owner must close
  expect(mb.size).toBe(5);
  mb.close(); // no more flushes: whatever this turn corked must be uncorked by its end
  await new Promise((r) => setImmediate(r));
  expect(socketOf(server).writableCorked).toBe(0);
});

/** Counts the socket's writes to the kernel (each writev/write is one syscall). */
function countWrites(ws: WebSocket): () => number {
  const s = socketOf(ws) as unknown as { _writev: (...a: unknown[]) => void; _write: (...a: unknown[]) => void };
  let n = 0;
  const wv = s._writev.bind(s);
  const w = s._write.bind(s);
  s._writev = (...a) => (n++, wv(...a));
  s._write = (...a) => (n++, w(...a));
  return () => n;
}

test('a lazy frame waits for the next frame and leaves in the same write, just before it', async () => {
  const { server, received } = await pair();
  const writes = countWrites(server);
  const mb = new Mailbox(server, { limit: 10, socketBufferBytes: 65536 });
  mb.push({ ...item('accepted-1'), lazy: true });
  await new Promise((r) => setImmediate(r));
  expect(writes()).toBe(0); // held: nothing written at the end of the turn
  await new Promise((r) => setTimeout(r, 2));
  mb.push(item('answer-1'));
  await until(() => received.length === 2);
  expect(received).toEqual(['accepted-1', 'answer-1']);
  expect(writes()).toBe(1);
  mb.close();
});

test('carryLazy (accepted=inline): held accepteds ride on the next frame as its last member, no frame of their own', async () => {
  const { server, received } = await pair();
  const writes = countWrites(server);
  const sent: string[] = [];
  const mb = new Mailbox(server, { limit: 10, socketBufferBytes: 65536, carryLazy: true }, { onSent: (_i, text) => sent.push(text) });
  mb.push({ payload: '{"type":"accepted","ref":"c-1"}', kind: 'direct', type: 'accepted', lazy: true, ref: 'c-1' });
  mb.push({ payload: '{"type":"accepted","ref":"c-\\"2"}', kind: 'direct', type: 'accepted', lazy: true, ref: 'c-"2' });
  await new Promise((r) => setImmediate(r));
  expect(writes()).toBe(0);
  mb.push(item('{"type":"message","seq":1,"data":{"accepted":["x"]},"ts":"t"}'));
  await until(() => received.length === 1);
  expect(received[0]).toBe('{"type":"message","seq":1,"data":{"accepted":["x"]},"ts":"t","accepted":["c-1","c-\\"2"]}');
  expect(JSON.parse(received[0]!).accepted).toEqual(['c-1', 'c-"2']);
  expect(sent).toEqual(received); // bytes out are counted on what went
  // Nothing held any more: the next frame is plain, and nothing else arrives.
  mb.push(item('{"type":"message","seq":2}'));
  await until(() => received.length === 2);
  await new Promise((r) => setTimeout(r, LAZY_HOLD_MS + 10));
  expect(received).toEqual([received[0], '{"type":"message","seq":2}']);
  expect(writes()).toBe(2);
  mb.close();
});

test('carryLazy: an accepted nothing follows is its own frame within LAZY_HOLD_MS; a frame that is not an object carries nothing', async () => {
  const { server, received } = await pair();
  const mb = new Mailbox(server, { limit: 10, socketBufferBytes: 65536, carryLazy: true });
  mb.push({ payload: '{"type":"accepted","ref":"c-1"}', kind: 'direct', type: 'accepted', lazy: true, ref: 'c-1' });
  await until(() => received.length === 1);
  expect(received).toEqual(['{"type":"accepted","ref":"c-1"}']);
  mb.push({ payload: '{"type":"accepted","ref":"c-2"}', kind: 'direct', type: 'accepted', lazy: true, ref: 'c-2' });
  mb.push(item('[1]'));
  await until(() => received.length === 3);
  expect(received.slice(1)).toEqual(['{"type":"accepted","ref":"c-2"}', '[1]']);
  mb.close();
});

test('a lazy frame nothing follows is written within LAZY_HOLD_MS', async () => {
  const { server, received } = await pair();
  const mb = new Mailbox(server, { limit: 10, socketBufferBytes: 65536 });
  const t0 = performance.now();
  mb.push({ ...item('accepted-1'), lazy: true });
  mb.push({ ...item('accepted-2'), lazy: true });
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 1));
  expect(socketOf(server).writableLength + received.length).toBe(0); // not at the end of the turn
  await until(() => received.length === 2);
  expect(received).toEqual(['accepted-1', 'accepted-2']);
  // The one shared timer may have been started by an earlier hold: at most LAZY_HOLD_MS (+ slack).
  expect(performance.now() - t0).toBeLessThan(LAZY_HOLD_MS + 500);
  mb.close();
});

test('LAZY_HOLD_MAX held lazy frames are written at once; order with later frames is kept', async () => {
  const { server, received } = await pair();
  const mb = new Mailbox(server, { limit: 10, socketBufferBytes: 65536 });
  for (let i = 0; i < LAZY_HOLD_MAX; i++) mb.push({ ...item(`a${i}`), lazy: true });
  mb.push({ ...item('late'), lazy: true });
  await until(() => received.length === LAZY_HOLD_MAX);
  expect(received).toEqual(Array.from({ length: LAZY_HOLD_MAX }, (_, i) => `a${i}`));
  mb.push(item('m'));
  await until(() => received.length === LAZY_HOLD_MAX + 2);
  expect(received.slice(-2)).toEqual(['late', 'm']);
  mb.close();
});

test('closing writes held lazy frames to an open socket first; a closed mailbox holds nothing', async () => {
  const { server, received } = await pair();
  const mb = new Mailbox(server, { limit: 10, socketBufferBytes: 65536 });
  mb.push({ ...item('accepted-1'), lazy: true });
  expect(mb.close()).toEqual([]);
  server.close(1001, 'bye');
  await until(() => received.length === 1);
  expect(received).toEqual(['accepted-1']);
  mb.push({ ...item('after'), lazy: true });
  await new Promise((r) => setTimeout(r, LAZY_HOLD_MS + 5));
  expect(received).toEqual(['accepted-1']);
});
