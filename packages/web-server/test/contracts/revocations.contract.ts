/**
 * What every RevocationStore must do (src/session/revocations.ts). `make` returns two stores over
 * one shared state (two web servers; memory: the same store twice); a sign-out at one reaches the
 * other within `settleMs`.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { RevocationStore } from '../../src/session/revocations.ts';

export type MakeRevocations = (opts: { ttlS: number; nowS: () => number; maxEntries?: number }) => Promise<[RevocationStore, RevocationStore]>;

export function describeRevocationsContract(name: string, make: MakeRevocations): void {
  describe(`RevocationStore contract: ${name}`, () => {
    it('a sign-out at one revokes tokens issued up to then at both; newer tokens pass', async () => {
      const now = Math.floor(Date.now() / 1000);
      const [a, b] = await make({ ttlS: 3600, nowS: () => now });
      const id = randomUUID();
      expect(a.isRevoked(id, now)).toBe(false);
      expect(await a.revoke(id)).toBe(true);
      expect(a.isRevoked(id, now)).toBe(true);
      expect(a.isRevoked(id, now - 100)).toBe(true);
      expect(a.isRevoked(id, now + 1)).toBe(false);
      await vi.waitFor(() => expect(b.isRevoked(id, now)).toBe(true), { timeout: 3000, interval: 20 });
      expect(b.minIat(id)).toBe(now + 1);
      expect(b.isRevoked(randomUUID(), now)).toBe(false);
      expect(b.minIat(randomUUID())).toBeUndefined();
    });

    it('a record ends once the newest token it revokes has expired', async () => {
      let now = Math.floor(Date.now() / 1000);
      const [a, b] = await make({ ttlS: 10, nowS: () => now });
      const id = randomUUID();
      const at = now;
      await a.revoke(id);
      await vi.waitFor(() => expect(b.isRevoked(id, at)).toBe(true), { timeout: 3000, interval: 20 });
      now += 12;
      expect(a.isRevoked(id, at)).toBe(false);
      expect(b.isRevoked(id, at)).toBe(false);
    });
  });
}
