/**
 * What every NonceStore must do (src/siwe/nonce-store.ts). `make` returns two stores over one
 * shared state — two web servers of one cluster (memory: the same store twice) — so a nonce
 * issued by one verifies once at the other.
 */
import { describe, expect, it } from 'vitest';
import { NonceRefused, type NonceStore } from '../../src/siwe/nonce-store.ts';

export interface NonceBounds {
  maxPerOwner?: number;
  /** The clock the stores read (ms). */
  now: () => number;
}
export type MakeNonceStores = (bounds: NonceBounds) => Promise<[NonceStore, NonceStore]>;

const TTL = 60_000;

export function describeNonceStoreContract(name: string, make: MakeNonceStores): void {
  describe(`NonceStore contract: ${name}`, () => {
    it('issued at one, verified once at the other: ok, then used everywhere', async () => {
      const [a, b] = await make({ now: Date.now });
      const { nonce, expiresAt } = await a.issue(TTL);
      expect(nonce).toMatch(/^[A-Za-z0-9]{22}$/);
      expect(expiresAt.getTime()).toBeGreaterThan(Date.now());
      expect(await b.peek(nonce)).toBe('ok');
      expect(await b.consume(nonce)).toBe('ok');
      expect(await b.consume(nonce)).toBe('used');
      expect(await a.consume(nonce)).toBe('used');
      expect(await a.peek(nonce)).toBe('used');
    });

    it('peek burns nothing; an unknown nonce is unknown', async () => {
      const [a, b] = await make({ now: Date.now });
      const { nonce } = await a.issue(TTL);
      expect(await a.peek(nonce)).toBe('ok');
      expect(await a.peek(nonce)).toBe('ok');
      expect(await b.peek('NoSuchNonce0123456789x')).toBe('unknown');
      expect(await b.consume('NoSuchNonce0123456789x')).toBe('unknown');
    });

    it('of many concurrent consumes on both stores exactly one is ok', async () => {
      const [a, b] = await make({ now: Date.now });
      const { nonce } = await a.issue(TTL);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).consume(nonce)));
      expect(results.filter((r) => r === 'ok')).toHaveLength(1);
      expect(results.filter((r) => r === 'used')).toHaveLength(19);
    });

    it('expires: past its TTL a nonce is expired and cannot be consumed', async () => {
      let t = Date.now();
      const [a, b] = await make({ now: () => t });
      const { nonce } = await a.issue(1000);
      t += 1001;
      expect(await b.peek(nonce)).toBe('expired');
      expect(await b.consume(nonce)).toBe('expired');
    });

    it('keeps the exact message built for the nonce, readable at the other store', async () => {
      const [a, b] = await make({ now: Date.now });
      const issued = await a.issue(TTL, { message: (n, exp) => `sign in, nonce ${n}, until ${exp.toISOString()}\nline 2` });
      expect(issued.message).toBe(`sign in, nonce ${issued.nonce}, until ${issued.expiresAt.toISOString()}\nline 2`);
      expect(await b.issuedMessage(issued.nonce)).toBe(issued.message);
      expect(await b.issuedMessage('NoSuchNonce0123456789x')).toBeUndefined();
      const plain = await a.issue(TTL);
      expect(await b.issuedMessage(plain.nonce)).toBeUndefined();
    });

    it('caps outstanding nonces per owner across both stores; a consumed one frees a place', async () => {
      const owner = `203.0.113.${Math.floor(Math.random() * 200)}`;
      const [a, b] = await make({ now: Date.now, maxPerOwner: 2 });
      const first = await a.issue(TTL, { owner });
      await b.issue(TTL, { owner });
      await expect(a.issue(TTL, { owner })).rejects.toBeInstanceOf(NonceRefused);
      await expect(b.issue(TTL, { owner })).rejects.toMatchObject({ reason: 'owner_limit' });
      // Another owner is not affected.
      await a.issue(TTL, { owner: `${owner}-other` });
      expect(await b.consume(first.nonce)).toBe('ok');
      await b.issue(TTL, { owner });
    });

    it('an expired nonce no longer counts against its owner', async () => {
      let t = Date.now();
      const owner = 'owner-expiry';
      const [a, b] = await make({ now: () => t, maxPerOwner: 1 });
      await a.issue(1000, { owner });
      await expect(b.issue(1000, { owner })).rejects.toBeInstanceOf(NonceRefused);
      t += 1001;
      await b.issue(1000, { owner });
    });
  });
}
