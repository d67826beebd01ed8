/**
 * Server-side SIWE nonces: issued by /auth/challenge, burnt by /auth/verify once the signature
 * is good. The interface; MemoryNonceStore (nonce-store-memory.ts) is the one-process default,
 * RedisNonceStore (nonce-store-redis.ts) the shared one of cluster mode, where a challenge issued
 * by one web server verifies once at any other (PROTOCOL §10). Both pass one contract suite
 * (test/contracts/nonce-store.contract.ts).
 */
import { randomInt } from 'node:crypto';

export type NonceState = 'ok' | 'unknown' | 'used' | 'expired';

export interface IssuedNonce {
  nonce: string;
  expiresAt: Date;
  /** The message stored with the nonce, when `issue` was given a builder. */
  message?: string;
}

export interface IssueOptions {
  /** Who asked (the client IP): at most `maxPerOwner` unexpired, unused nonces each. */
  owner?: string;
  /**
   * Builds the exact message this nonce is for; it is stored with the nonce, and verify accepts
   * only that text (issue 9: a changed statement, added resources or a removed expiry must fail).
   */
  message?: (nonce: string, expiresAt: Date) => string;
}

/** issue() refused: the owner has too many outstanding nonces, or the store is full of live ones. */
export class NonceRefused extends Error {
  override name = 'NonceRefused';
  constructor(readonly reason: 'owner_limit' | 'full') {
    super(reason === 'owner_limit' ? 'too many outstanding challenges for this address' : 'too many outstanding challenges');
  }
}

export interface NonceStore {
  /**
   * A fresh nonce, valid for `ttlMs`. Throws NonceRefused rather than evicting an unexpired
   * nonce: eviction would let anyone with many addresses cancel a victim's sign-in.
   */
  issue(ttlMs: number, opts?: IssueOptions): Promise<IssuedNonce>;
  /** The message stored with the nonce (undefined: none, or unknown nonce). */
  issuedMessage(nonce: string): Promise<string | undefined>;
  /** What `consume` would answer now, without burning it. */
  peek(nonce: string): Promise<NonceState>;
  /** Burn the nonce. Atomic: of two concurrent calls for one nonce only one gets 'ok'. */
  consume(nonce: string): Promise<NonceState>;
  close(): void;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * 22 alphanumeric characters ≈ 131 bits. `randomInt` is uniform (rejection sampling), unlike
 * `byte % 62`; EIP-4361 wants at least 8 alphanumeric characters.
 */
export function generateNonce(length = 22): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

export { MemoryNonceStore, type MemoryNonceStoreOptions } from './nonce-store-memory.ts';
