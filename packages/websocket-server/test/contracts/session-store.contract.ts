/**
 * What every SessionStore must do (store/session-store.ts), whatever holds the records: run it
 * against the memory store now and a shared one (Redis) later. `make` gives a fresh, empty store.
 */
import { describe, expect, it } from 'vitest';
import type { SessionBounds, SessionRecord, SessionStore } from '../../src/store/session-store.ts';

export type MakeSessionStore = (bounds: SessionBounds) => SessionStore | Promise<SessionStore>;

const record = (clientId: string, over: Partial<SessionRecord> = {}): SessionRecord => ({
  clientId,
  epoch: 'e1',
  address: null,
  createdAt: 1_000,
  expiresAt: null,
  ...over,
});
const roomy: SessionBounds = { maxSessions: 1000, maxPerIp: 1000 };

export function describeSessionStoreContract(name: string, make: MakeSessionStore): void {
  describe(`SessionStore contract: ${name}`, () => {
    it('getOrCreate stores a record once; a second call answers the first, unchanged', async () => {
      const s = await make(roomy);
      expect(await s.get('a')).toBeUndefined();
      const first = await s.getOrCreate(record('a', { address: '0x1' }));
      expect(first.created).toBe(true);
      const again = await s.getOrCreate(record('a', { address: '0x2' }));
      expect(again.created).toBe(false);
      expect(again.record).toMatchObject({ clientId: 'a', address: '0x1', epoch: 'e1' });
      expect(await s.size()).toBe(1);
    });

    it('records are data: what get answers survives a JSON round trip', async () => {
      const s = await make(roomy);
      await s.getOrCreate(record('a', { ip: '10.0.0.1' }));
      const got = await s.get('a');
      expect(JSON.parse(JSON.stringify(got))).toEqual(got);
    });

    it('update changes address and expiry only; an unknown clientId answers undefined', async () => {
      const s = await make(roomy);
      await s.getOrCreate(record('a'));
      expect(await s.update('a', { address: '0xabc' })).toMatchObject({ address: '0xabc', expiresAt: null });
      expect(await s.update('a', { expiresAt: 5_000 })).toMatchObject({ address: '0xabc', expiresAt: 5_000 });
      expect(await s.update('a', { address: null })).toMatchObject({ address: null });
      expect(await s.update('nobody', { address: '0x1' })).toBeUndefined();
    });

    it('expiry rule: only a detached record whose deadline came is removed, for exactly one caller', async () => {
      const s = await make(roomy);
      await s.getOrCreate(record('a'));
      expect(await s.expire('a', 10_000)).toBeUndefined(); // attached: expiresAt null
      await s.update('a', { expiresAt: 5_000 });
      expect(await s.expire('a', 4_999)).toBeUndefined(); // not due yet
      const callers = await Promise.all([s.expire('a', 5_000), s.expire('a', 5_000), s.expire('a', 6_000)]);
      expect(callers.filter((r) => r !== undefined)).toHaveLength(1);
      expect(await s.get('a')).toBeUndefined();
      expect(await s.size()).toBe(0);
    });

    it('a reattach (expiresAt back to null) makes a late expiry find nothing', async () => {
      const s = await make(roomy);
      await s.getOrCreate(record('a'));
      await s.update('a', { expiresAt: 5_000 });
      await s.update('a', { expiresAt: null });
      expect(await s.expire('a', 5_000)).toBeUndefined();
      // Detached again later: the old deadline does not end it either.
      await s.update('a', { expiresAt: 9_000 });
      expect(await s.expire('a', 5_000)).toBeUndefined();
      expect(await s.get('a')).toBeDefined();
    });

    it('MAX_SESSIONS refuses a new session only; a known one is never refused', async () => {
      const s = await make({ maxSessions: 2, maxPerIp: 100 });
      await s.getOrCreate(record('a'));
      await s.getOrCreate(record('b'));
      expect(await s.refusal('c', undefined)).toBe('sessions');
      expect(await s.refusal('a', undefined)).toBeUndefined();
      await s.update('a', { expiresAt: 1 });
      await s.expire('a', 1);
      expect(await s.refusal('c', undefined)).toBeUndefined();
    });

    it('MAX_SESSIONS_PER_IP counts by the creation IP; a session without IP counts in the total only', async () => {
      const s = await make({ maxSessions: 100, maxPerIp: 2 });
      await s.getOrCreate(record('a', { ip: '10.0.0.1' }));
      await s.getOrCreate(record('b', { ip: '10.0.0.1' }));
      await s.getOrCreate(record('c'));
      expect(await s.refusal('d', '10.0.0.1')).toBe('sessions_per_ip');
      expect(await s.refusal('d', '10.0.0.2')).toBeUndefined();
      expect(await s.refusal('d', undefined)).toBeUndefined();
      await s.update('b', { expiresAt: 1 });
      await s.expire('b', 1);
      expect(await s.refusal('d', '10.0.0.1')).toBeUndefined();
    });

    it('list answers every record', async () => {
      const s = await make(roomy);
      for (const id of ['a', 'b', 'c']) await s.getOrCreate(record(id));
      expect((await s.list()).map((r) => r.clientId).sort()).toEqual(['a', 'b', 'c']);
    });
  });
}
