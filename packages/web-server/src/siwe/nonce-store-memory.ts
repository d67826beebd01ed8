/** The in-memory NonceStore: one web server's own nonces. */
import { generateNonce, NonceRefused, type IssuedNonce, type IssueOptions, type NonceState, type NonceStore } from './nonce-store.ts';

interface Entry {
  expiresAtMs: number;
  used: boolean;
  owner?: string;
  message?: string;
}

export interface MemoryNonceStoreOptions {
  /**
   * Entries kept at most (outstanding and recently used). Beyond it, used and expired entries
   * make room; unexpired unused ones are never evicted (issue() refuses instead).
   */
  maxEntries?: number;
  /** Unexpired unused nonces per owner (SIWE_NONCES_PER_IP). */
  maxPerOwner?: number;
  /** How often expired entries are swept. */
  sweepIntervalMs?: number;
  now?: () => number;
}

export class MemoryNonceStore implements NonceStore {
  // A Map iterates in insertion order: the first key is always the oldest nonce.
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxPerOwner: number;
  /** Outstanding (unused, maybe expired but not yet swept) nonces per owner. */
  private readonly perOwner = new Map<string, number>();
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(opts: MemoryNonceStoreOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.maxPerOwner = opts.maxPerOwner ?? Number.POSITIVE_INFINITY;
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.sweep(), opts.sweepIntervalMs ?? 60_000);
    this.timer.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  async issue(ttlMs: number, opts: IssueOptions = {}): Promise<IssuedNonce> {
    const owner = opts.owner;
    if (owner !== undefined && (this.perOwner.get(owner) ?? 0) >= this.maxPerOwner) {
      this.sweep();
      if ((this.perOwner.get(owner) ?? 0) >= this.maxPerOwner) throw new NonceRefused('owner_limit');
    }
    if (this.entries.size >= this.maxEntries) {
      this.sweep();
      this.dropUsed();
      if (this.entries.size >= this.maxEntries) throw new NonceRefused('full');
    }
    let nonce = generateNonce();
    while (this.entries.has(nonce)) nonce = generateNonce();
    const expiresAtMs = this.now() + ttlMs;
    const expiresAt = new Date(expiresAtMs);
    const message = opts.message?.(nonce, expiresAt);
    this.entries.set(nonce, { expiresAtMs, used: false, owner, message });
    if (owner !== undefined) this.perOwner.set(owner, (this.perOwner.get(owner) ?? 0) + 1);
    return message === undefined ? { nonce, expiresAt } : { nonce, expiresAt, message };
  }

  async issuedMessage(nonce: string): Promise<string | undefined> {
    return this.entries.get(nonce)?.message;
  }

  async peek(nonce: string): Promise<NonceState> {
    return this.state(nonce);
  }

  async consume(nonce: string): Promise<NonceState> {
    // No await between the check and the write: consume is atomic on the event loop.
    const state = this.state(nonce);
    if (state === 'ok') {
      const entry = this.entries.get(nonce)!;
      entry.used = true;
      this.release(entry);
    }
    return state;
  }

  /**
   * Used nonces are kept (marked) until they would have expired so that a replay is told
   * `used` rather than `unknown`; after that the message's own expiry refuses it.
   */
  sweep(): void {
    const now = this.now();
    for (const [nonce, entry] of this.entries) {
      if (entry.expiresAtMs <= now) {
        this.entries.delete(nonce);
        if (!entry.used) this.release(entry);
      }
    }
  }

  /** Used nonces are kept only to answer `used`; when room is short they go first (`unknown` then). */
  private dropUsed(): void {
    for (const [nonce, entry] of this.entries) if (entry.used) this.entries.delete(nonce);
  }

  private release(entry: Entry): void {
    if (entry.owner === undefined) return;
    const n = (this.perOwner.get(entry.owner) ?? 0) - 1;
    if (n <= 0) this.perOwner.delete(entry.owner);
    else this.perOwner.set(entry.owner, n);
  }

  close(): void {
    clearInterval(this.timer);
    this.entries.clear();
    this.perOwner.clear();
  }

  private state(nonce: string): NonceState {
    const entry = this.entries.get(nonce);
    if (!entry) return 'unknown';
    if (entry.used) return 'used';
    if (entry.expiresAtMs <= this.now()) return 'expired';
    return 'ok';
  }
}
