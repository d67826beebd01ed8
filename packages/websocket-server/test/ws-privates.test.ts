/**
 * The one adapter over ws privates (common/src/ws-privates.ts): if a ws upgrade renames `_closeCode`, this
 * fails here rather than as a wrong `resumable` on a replacement (documented-rules.test.ts).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { NO_CLOSE_FRAME, peerCloseCode, wsSocket } from '@agent-bridge/common';

let wss: WebSocketServer | undefined;
afterEach(async () => {
  for (const c of wss?.clients ?? []) c.terminate();
  await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()));
  wss = undefined;
});

async function pair(): Promise<{ server: WebSocket; client: WebSocket }> {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const [server] = (await once(wss, 'connection')) as [WebSocket];
  await once(client, 'open');
  return { server, client };
}

it('answers the code of the peer close frame as soon as it arrived, before ws emits close', async () => {
  const { server, client } = await pair();
  expect(peerCloseCode(server)).toBe(NO_CLOSE_FRAME);
  // ws answers the close frame and only then emits 'close'; in between the socket is CLOSING.
  const closing = new Promise<number>((resolve) => {
    const poll = () => (server.readyState >= server.CLOSING ? resolve(peerCloseCode(server)) : setImmediate(poll));
    poll();
  });
  client.close(1001, 'bye');
  expect(await closing).toBe(1001);
  const [code] = (await once(server, 'close')) as [number];
  expect(peerCloseCode(server)).toBe(code);
});

it('answers 1006 for a connection that dropped without a close frame', async () => {
  const { server, client } = await pair();
  client.terminate();
  await once(server, 'close');
  expect(peerCloseCode(server)).toBe(NO_CLOSE_FRAME);
});

it('finds the net.Socket under a connected ws (the batcher corks it), none before connecting', async () => {
  const { server, client } = await pair();
  const socket = wsSocket(server);
  expect(socket).toBeDefined();
  expect(typeof socket!.cork).toBe('function');
  expect(socket!.remoteAddress).toBe('127.0.0.1');
  client.terminate();
  const unconnected = new WebSocket('ws://127.0.0.1:1', { autoPong: true });
  unconnected.on('error', () => undefined);
  expect(wsSocket(unconnected)).toBeUndefined();
  unconnected.terminate();
});
