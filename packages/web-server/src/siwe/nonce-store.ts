/**
 * Server-side SIWE nonces: issued by /auth/challenge, burnt by /auth/verify once the signature
 * is good. Behind an interface so a shared store (Redis) can replace the in-memory one when
 * several web servers run behind one origin.
 */
import { randomInt } from 'node:crypto';

export type NonceState = 'ok' | 'unknown' | 'used' | 'expired';

export interface IssuedNonce {
  nonce: string;
  expiresAt: Date;
}

export interface NonceStore {
  /** A fresh nonce, valid for `ttlMs`. */
  issue(ttlMs: number): Promise<IssuedNonce>;
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

interface Entry {
  expiresAtMs: number;
  used: boolean;
}

export interface MemoryNonceStoreOptions {
  /** Entries kept at most (outstanding and recently used); the oldest is evicted beyond it. */
  maxEntries?: number;
  /** How often expired entries are swept. */
  sweepIntervalMs?: number;
  now?: () => number;
}

export class MemoryNonceStore implements NonceStore {
  // A Map iterates in insertion order: the first key is always the oldest nonce.
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(opts: MemoryNonceStoreOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.sweep(), opts.sweepIntervalMs ?? 60_000);
    this.timer.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  async issue(ttlMs: number): Promise<IssuedNonce> {
    let nonce = generateNonce();
    while (this.entries.has(nonce)) nonce = generateNonce();
    const expiresAtMs = this.now() + ttlMs;
    this.entries.set(nonce, { expiresAtMs, used: false });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return { nonce, expiresAt: new Date(expiresAtMs) };
  }

  async peek(nonce: string): Promise<NonceState> {
    return this.state(nonce);
  }

  async consume(nonce: string): Promise<NonceState> {
    // No await between the check and the write: consume is atomic on the event loop.
    const state = this.state(nonce);
    if (state === 'ok') this.entries.get(nonce)!.used = true;
    return state;
  }

  /**
   * Used nonces are kept (marked) until they would have expired so that a replay is told
   * `used` rather than `unknown`; after that the message's own expiry refuses it.
   */
  sweep(): void {
    const now = this.now();
    for (const [nonce, entry] of this.entries) {
      if (entry.expiresAtMs <= now) this.entries.delete(nonce);
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.entries.clear();
  }

  private state(nonce: string): NonceState {
    const entry = this.entries.get(nonce);
    if (!entry) return 'unknown';
    if (entry.used) return 'used';
    if (entry.expiresAtMs <= this.now()) return 'expired';
    return 'ok';
  }
}
