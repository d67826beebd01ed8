import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import { FlushClock, SocketBatcher } from '../src/index.ts';

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

function recorder() {
  const seen: number[] = [];
  return { seen, sink: { observe: (v: number) => seen.push(v) } };
}

describe('FlushClock', () => {
  test('observes at the end of the turn, every frame of it from one clock read, in the given unit', async () => {
    let reads = 0;
    let now = 1_000;
    const clock = new FlushClock(() => (reads++, now), 1 / 1000, new SocketBatcher());
    const a = recorder();
    const b = recorder();
    clock.observe(a.sink, 990);
    clock.observe(b.sink, 400);
    clock.observe(a.sink, 1_600); // a start after the end (another clock's skew): 0, never negative
    clock.observe(b.sink, Number.NaN); // not a time at all: 0, never NaN
    now = 1_500; // the turn goes on: what the frames wait for counts
    expect(a.seen).toEqual([]);
    expect(clock.pending).toBe(4);
    await nextTurn();
    expect(reads).toBe(1);
    expect(a.seen).toEqual([0.51, 0]);
    expect(b.seen).toEqual([1.1, 0]);
    expect(clock.pending).toBe(0);
    // The next turn starts afresh.
    now = 2_000;
    clock.observe(b.sink, 1_990);
    await nextTurn();
    expect(reads).toBe(2);
    expect(b.seen).toEqual([1.1, 0, 0.01]);
  });

  test('the end is read while the turn’s frames are still corked: just before they are written', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection');
    const client = connect((server.address() as { port: number }).port, '127.0.0.1');
    await once(client, 'connect');
    const [peer] = (await accepted) as [import('node:net').Socket];
    try {
      const batcher = new SocketBatcher();
      const corkedAtRead: number[] = [];
      const clock = new FlushClock(() => (corkedAtRead.push(client.writableCorked), 0), 1, batcher);
      batcher.hold(client);
      client.write('frame;');
      clock.observe(recorder().sink, 0);
      await nextTurn();
      expect(corkedAtRead).toEqual([1]);
      expect(client.writableCorked).toBe(0);
    } finally {
      client.destroy();
      peer.destroy();
      server.close();
    }
  });
});
