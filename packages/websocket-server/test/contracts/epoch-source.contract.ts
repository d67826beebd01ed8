/** What every EpochSource must do (store/epoch-source.ts): one stable epoch a client may send back. */
import { describe, expect, it } from 'vitest';
import type { EpochSource } from '../../src/store/epoch-source.ts';

export type MakeEpochSource = () => EpochSource | Promise<EpochSource>;

export function describeEpochSourceContract(name: string, make: MakeEpochSource): void {
  describe(`EpochSource contract: ${name}`, () => {
    it('answers the same non-empty epoch every time, short enough for ?epoch= (≤ 128)', async () => {
      const e = await make();
      const first = await e.current();
      expect(first.length).toBeGreaterThan(0);
      expect(first.length).toBeLessThanOrEqual(128);
      for (let i = 0; i < 5; i++) expect(await e.current()).toBe(first);
    });
  });
}
