/**
 * What every RateLimitStore must do (store/rate-limit-store.ts): a token bucket per clientId
 * (CLIENT_RATE_PER_SEC / _BURST) that a reconnect does not refill, and flood detection.
 */
import { describe, expect, it } from 'vitest';
import type { RateLimitStore } from '../../src/store/rate-limit-store.ts';

export interface RateBounds {
  ratePerSec: number;
  burst: number;
  /** The clock the store reads (ms). */
  now: () => number;
}
export type MakeRateLimitStore = (bounds: RateBounds) => RateLimitStore | Promise<RateLimitStore>;

export function describeRateLimitStoreContract(name: string, make: MakeRateLimitStore): void {
  describe(`RateLimitStore contract: ${name}`, () => {
    it('a burst, then limited; each clientId has its own bucket', async () => {
      const s = await make({ ratePerSec: 1, burst: 3, now: () => 0 });
      for (let i = 0; i < 3; i++) expect(await s.take('a')).toBe('ok');
      expect(await s.take('a')).toBe('limited');
      expect(await s.take('b')).toBe('ok');
    });

    it('tokens come back at the rate', async () => {
      let t = 0;
      const s = await make({ ratePerSec: 10, burst: 1, now: () => t });
      expect(await s.take('a')).toBe('ok');
      expect(await s.take('a')).toBe('limited');
      t += 100;
      expect(await s.take('a')).toBe('ok');
    });

    it('10 × burst refusals in a row are abuse; an accepted frame resets the count', async () => {
      let t = 0;
      const s = await make({ ratePerSec: 1, burst: 2, now: () => t });
      await s.take('a');
      await s.take('a');
      for (let i = 0; i < 19; i++) expect(await s.take('a')).toBe('limited');
      t += 1000;
      expect(await s.take('a')).toBe('ok');
      for (let i = 0; i < 19; i++) expect(await s.take('a')).toBe('limited');
      expect(await s.take('a')).toBe('abuse');
    });

    it('only forget (the session ended) refills the bucket', async () => {
      const s = await make({ ratePerSec: 1, burst: 1, now: () => 0 });
      expect(await s.take('a')).toBe('ok');
      expect(await s.take('a')).toBe('limited');
      await s.forget('a');
      expect(await s.take('a')).toBe('ok');
    });
  });
}
