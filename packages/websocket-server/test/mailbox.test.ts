// The mailbox's write path on real sockets: one write per turn, backpressure unchanged by it.
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { Mailbox, type OutItem } from '../src/mailbox.ts';

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
