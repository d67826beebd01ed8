/**
 * What every HitCounter must do (src/http/rate-limit-store.ts): a fixed window per key. `make`
 * returns two counters over one shared state (two web servers; memory: the same counter twice).
 */
import { describe, expect, it } from 'vitest';
import type { HitCounter } from '../../src/http/rate-limit-store.ts';

export type MakeHitCounters = (windowMs: number) => Promise<[HitCounter, HitCounter]>;

export function describeHitCounterContract(name: string, make: MakeHitCounters): void {
  describe(`HitCounter contract: ${name}`, () => {
    it('counts hits per key across both counters, with the end of the window', async () => {
      const [a, b] = await make(60_000);
      const before = Date.now();
      expect((await a.hit('1.2.3.4')).count).toBe(1);
      expect((await b.hit('1.2.3.4')).count).toBe(2);
      const third = await a.hit('1.2.3.4');
      expect(third.count).toBe(3);
      expect(third.resetAtMs).toBeGreaterThan(before);
      expect(third.resetAtMs).toBeLessThanOrEqual(Date.now() + 60_000);
      expect((await b.hit('5.6.7.8')).count).toBe(1);
    });

    it('a new window starts once the old one is over', async () => {
      const [a, b] = await make(150);
      await a.hit('k');
      await b.hit('k');
      await new Promise((r) => setTimeout(r, 200));
      expect((await b.hit('k')).count).toBe(1);
    });

    it('unhit takes one back (never below zero); reset forgets the key', async () => {
      const [a, b] = await make(60_000);
      await a.hit('k');
      await a.hit('k');
      await b.unhit('k');
      expect((await a.hit('k')).count).toBe(2);
      await b.reset('k');
      await a.unhit('k');
      expect((await b.hit('k')).count).toBe(1);
    });
  });
}
