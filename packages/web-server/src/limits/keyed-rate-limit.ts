/**
 * Token buckets by key (a clientId, an IP) for WebSocket upgrades. Buckets that have refilled are
 * swept, and the map is bounded: when it is full of live buckets, a new key is refused (answered
 * 429 like an empty bucket) rather than evicting someone else's state — eviction would hand an
 * attacker a fresh budget by churning keys.
 */
import { TokenBucket } from '@agent-bridge/common';

export interface KeyedRateLimitOptions {
  perMinute: number;
  /** Live keys kept at most. */
  maxKeys?: number;
  now?: () => number;
}

export class KeyedRateLimit {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly ratePerSec: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(opts: KeyedRateLimitOptions) {
    this.ratePerSec = opts.perMinute / 60;
    this.burst = opts.perMinute;
    this.maxKeys = opts.maxKeys ?? 100_000;
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.sweep(), 60_000);
    this.timer.unref();
  }

  /** Take a token for `key`; false = over the limit. */
  take(key: string): boolean {
    const bucket = this.bucket(key);
    return bucket ? bucket.take() : false;
  }

  /** Would take(key) succeed now? Takes nothing and creates nothing. */
  peek(key: string): boolean {
    const bucket = this.buckets.get(key);
    if (bucket) return bucket.peek();
    return this.buckets.size < this.maxKeys;
  }

  sweep(): void {
    for (const [key, bucket] of this.buckets) if (bucket.full) this.buckets.delete(key);
  }

  close(): void {
    clearInterval(this.timer);
    this.buckets.clear();
  }

  private bucket(key: string): TokenBucket | undefined {
    let bucket = this.buckets.get(key);
    if (bucket) return bucket;
    if (this.buckets.size >= this.maxKeys) {
      this.sweep();
      if (this.buckets.size >= this.maxKeys) return undefined;
    }
    bucket = new TokenBucket(this.ratePerSec, this.burst, this.now);
    this.buckets.set(key, bucket);
    return bucket;
  }
}
