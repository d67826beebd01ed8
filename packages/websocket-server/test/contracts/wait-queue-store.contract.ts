/**
 * What every WaitQueueStore must do (store/wait-queue-store.ts): order, the count, per-client and
 * global byte bounds, the put-back at the head, and the end of a wait answered, never silent.
 */
import { describe, expect, it, vi } from 'vitest';
import type { WaitEntry, WaitQueueStore } from '../../src/store/wait-queue-store.ts';

export interface WaitBounds {
  limit: number;
  maxAgeMs: number;
  budget: number;
  perClient: number;
}
export type MakeWaitQueueStore = (bounds: WaitBounds) => WaitQueueStore | Promise<WaitQueueStore>;

const roomy: WaitBounds = { limit: 100, maxAgeMs: 60_000, budget: 1 << 20, perClient: 1 << 20 };
let n = 0;
const entry = (agent: string, clientId: string, bytes = 10, sentAt = Date.now()): WaitEntry => ({
  agent,
  clientId,
  ref: `r${++n}`,
  payload: 'x'.repeat(bytes),
  bytes,
  sentAt,
});
const refs = (es: WaitEntry[]) => es.map((e) => e.ref);

/**
 * `sharedClear`: clear() is a broker's shutdown; a shared store's queues are the cluster's and
 * stay (the memory store forgets them with its process).
 */
export function describeWaitQueueStoreContract(name: string, make: MakeWaitQueueStore, opts: { sharedClear?: boolean } = {}): void {
  describe(`WaitQueueStore contract: ${name}`, () => {
    it('take answers a name queue in order and empties it', async () => {
      const q = await make(roomy);
      const es = [entry('echo', 'a'), entry('echo', 'b'), entry('time', 'a'), entry('echo', 'a')];
      for (const e of es) expect(await q.offer(e)).toBe('ok');
      expect((await q.depths()).get('echo')).toBe(3);
      expect(refs(await q.take('echo'))).toEqual(refs([es[0]!, es[1]!, es[3]!]));
      expect(await q.take('echo')).toEqual([]);
      expect(refs(await q.take('time'))).toEqual([es[2]!.ref]);
      expect(await q.heldBytes()).toBe(0);
    });

    it('the count bound per name and per client answers full', async () => {
      const q = await make({ ...roomy, limit: 2 });
      expect(await q.offer(entry('echo', 'a'))).toBe('ok');
      expect(await q.offer(entry('echo', 'b'))).toBe('ok');
      expect(await q.offer(entry('echo', 'c'))).toBe('full');
      expect(await q.offer(entry('time', 'a'))).toBe('ok');
      expect(await q.offer(entry('other', 'a'))).toBe('full'); // a has 2 waiting across names
    });

    it('bytes: over the per-client share is full, over the global budget is over_capacity', async () => {
      const q = await make({ ...roomy, perClient: 1000, budget: 1500 });
      expect(await q.offer(entry('echo', 'a', 700))).toBe('ok');
      expect(await q.offer(entry('echo', 'a', 300))).toBe('full');
      expect(await q.offer(entry('echo', 'b', 500))).toBe('ok');
      expect(await q.offer(entry('echo', 'c', 500))).toBe('over_capacity');
      expect(await q.heldBytes()).toBeGreaterThanOrEqual(1200);
    });

    it('requeueFront puts entries ahead of the queue; beyond the bound the newest are rejected', async () => {
      const q = await make({ ...roomy, limit: 3 });
      const rejected: WaitEntry[] = [];
      q.onRejected((e) => rejected.push(e));
      const queued = [entry('echo', 'a'), entry('echo', 'b')];
      for (const e of queued) await q.offer(e);
      const back = [entry('echo', 'c'), entry('echo', 'd')];
      await q.requeueFront('echo', back);
      expect(refs(rejected)).toEqual([queued[1]!.ref]);
      expect(refs(await q.take('echo'))).toEqual(refs([...back, queued[0]!]));
    });

    it('a message whose wait ends goes to the rejected listener', async () => {
      const q = await make({ ...roomy, maxAgeMs: 40 });
      const rejected: WaitEntry[] = [];
      q.onRejected((e) => rejected.push(e));
      const e = entry('echo', 'a');
      await q.offer(e);
      await vi.waitFor(() => expect(refs(rejected)).toEqual([e.ref]), { timeout: 2000, interval: 10 });
      expect(await q.take('echo')).toEqual([]);
    });

    it('a zero bound answers full at once', async () => {
      expect(await (await make({ ...roomy, limit: 0 })).offer(entry('echo', 'a'))).toBe('full');
      expect(await (await make({ ...roomy, maxAgeMs: 0 })).offer(entry('echo', 'a'))).toBe('full');
    });

    it.skipIf(opts.sharedClear === true)('clear forgets everything', async () => {
      const q = await make(roomy);
      await q.offer(entry('echo', 'a'));
      await q.clear();
      expect(await q.take('echo')).toEqual([]);
      expect(await q.heldBytes()).toBe(0);
    });
  });
}
