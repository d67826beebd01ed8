/** The web server's store contracts against the in-memory implementations (one process). */
import { afterEach } from 'vitest';
import { MemoryNonceStore } from '../src/siwe/nonce-store-memory.ts';
import { MemoryHitCounter } from '../src/http/rate-limit-store-memory.ts';
import { MemoryRevocations } from '../src/session/revocations-memory.ts';
import { describeNonceStoreContract } from './contracts/nonce-store.contract.ts';
import { describeHitCounterContract } from './contracts/hit-counter.contract.ts';
import { describeRevocationsContract } from './contracts/revocations.contract.ts';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});
const keep = <T extends { close(): void }>(s: T): T => {
  closers.push(() => s.close());
  return s;
};

// One process: "both web servers" are the same store.
describeNonceStoreContract('memory', async ({ now, maxPerOwner }) => {
  const s = keep(new MemoryNonceStore({ now, maxPerOwner }));
  return [s, s];
});
describeHitCounterContract('memory', async (windowMs) => {
  const c = keep(new MemoryHitCounter({ windowMs }));
  return [c, c];
});
describeRevocationsContract('memory', async (opts) => {
  const r = keep(new MemoryRevocations(opts));
  return [r, r];
});
