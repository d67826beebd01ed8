import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { bufferedAmountFor, SocketBatcher } from '../src/index.ts';

/** A real loopback TCP pair: `client` writes, `server` side counts the reads it gets. */
async function tcpPair(): Promise<{ client: Socket; peer: Socket; reads: Buffer[]; server: Server }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const accepted = once(server, 'connection');
  const client = connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [peer] = (await accepted) as [Socket];
  const reads: Buffer[] = [];
  peer.on('data', (d: Buffer) => reads.push(d));
  return { client, peer, reads, server };
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

describe('SocketBatcher', () => {
  test('the writes of one turn leave together when the turn ends, nothing earlier', async () => {
    const { client, peer, reads, server } = await tcpPair();
    cleanup.push(() => (client.destroy(), peer.destroy(), server.close()));
    const batcher = new SocketBatcher();
    for (let i = 0; i < 10; i++) {
      batcher.hold(client);
      client.write(`frame-${i};`);
    }
    expect(batcher.size).toBe(1);
    expect(client.writableCorked).toBe(1);
    // Corked bytes are still buffered bytes: what bufferedAmount-based backpressure reads.
    expect(client.writableLength).toBe(80);
    await nextTurn();
    expect(batcher.size).toBe(0);
    expect(client.writableCorked).toBe(0);
    await expect.poll(() => Buffer.concat(reads).length, { timeout: 5000, interval: 5 }).toBe(80);
    expect(Buffer.concat(reads).toString()).toBe(Array.from({ length: 10 }, (_, i) => `frame-${i};`).join(''));
    expect(reads.length).toBe(1); // one write, one segment on loopback
  });

  test('beforeFlush runs at the end of the turn, before the uncork: what it writes joins the turn\'s write', async () => {
    const { client, peer, reads, server } = await tcpPair();
    cleanup.push(() => (client.destroy(), peer.destroy(), server.close()));
    const batcher = new SocketBatcher();
    batcher.hold(client);
    client.write('reply;');
    const order: string[] = [];
    batcher.beforeFlush(() => {
      order.push(`corked=${client.writableCorked}`);
      client.write('ack;');
    });
    expect(order).toEqual([]);
    await nextTurn();
    expect(order).toEqual(['corked=1']);
    expect(client.writableCorked).toBe(0);
    await expect.poll(() => Buffer.concat(reads).toString(), { timeout: 5000, interval: 5 }).toBe('reply;ack;');
    expect(reads.length).toBe(1);
    // With nothing held it still runs at the end of the turn; one that throws still uncorks the rest.
    let ran = false;
    batcher.beforeFlush(() => (ran = true));
    await nextTurn();
    expect(ran).toBe(true);
    batcher.hold(client);
    client.write('x;');
    batcher.beforeFlush(() => {
      throw new Error('boom');
    });
    expect(() => batcher.flush()).toThrow('boom');
    expect(client.writableCorked).toBe(0);
  });

  test('a socket destroyed or ended while held is never left corked and the flush survives it', async () => {
    const a = await tcpPair();
    const b = await tcpPair();
    cleanup.push(() => (a.client.destroy(), a.peer.destroy(), a.server.close(), b.client.destroy(), b.peer.destroy(), b.server.close()));
    const batcher = new SocketBatcher();
    batcher.hold(a.client);
    a.client.write('lost');
    a.client.destroy();
    batcher.hold(b.client);
    b.client.end('last words');
    expect(b.client.writableCorked).toBe(0); // end() uncorks by itself
    batcher.hold(a.client); // destroyed: ignored
    await nextTurn();
    expect(batcher.size).toBe(0);
    await expect.poll(() => Buffer.concat(b.reads).toString(), { timeout: 5000, interval: 5 }).toBe('last words');
  });

  test('bufferedAmountFor writes the corked frames out when they alone reach the limit', async () => {
    const { client, peer, reads, server } = await tcpPair();
    cleanup.push(() => (client.destroy(), peer.destroy(), server.close()));
    const batcher = new SocketBatcher();
    // What ws exposes: bufferedAmount over the socket's writable buffer.
    const ws = { _socket: client, get bufferedAmount() { return client.writableLength; } };
    batcher.hold(client);
    client.write(Buffer.alloc(1000));
    expect(bufferedAmountFor(ws, 4096, batcher)).toBe(1000); // under the limit: stays corked
    expect(client.writableCorked).toBe(1);
    client.write(Buffer.alloc(4000));
    // At the limit only because of the cork: released, and the kernel takes it at once.
    expect(bufferedAmountFor(ws, 4096, batcher)).toBe(0);
    expect(client.writableCorked).toBe(0);
    expect(batcher.size).toBe(0);
    await expect.poll(() => Buffer.concat(reads).length, { timeout: 5000, interval: 5 }).toBe(5000);
    await nextTurn(); // the scheduled flush finds nothing held
    expect(client.writableCorked).toBe(0);
  });
});
