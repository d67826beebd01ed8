/**
 * Rate limiting, one implementation for every process: a token bucket, and on top of it the
 * per-client frame limiter that also tells a flood from a burst. The broker keeps one limiter per
 * session (so reconnecting does not refill it); the web server keeps one per browser socket (the
 * edge limit, in front of the broker's); keyed buckets limit upgrades per clientId and per IP.
 */

/** A bucket as stored elsewhere (the cluster keeps each session's in Redis): tokens, and when they were counted (ms). */
export interface BucketState {
  tokens: number;
  last: number;
}

/** `burst` tokens, refilled continuously at `ratePerSec`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
    /** Where it stood (default: full, now). */
    from?: BucketState,
  ) {
    this.tokens = from?.tokens ?? burst;
    this.last = from?.last ?? now();
  }

  get state(): BucketState {
    return { tokens: this.tokens, last: this.last };
  }

  /** Take one token if there is one. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Would take() succeed now? (Does not take.) */
  peek(): boolean {
    this.refill();
    return this.tokens >= 1;
  }

  /** Seconds until a token is available (0 if one is). */
  retryAfterS(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.ratePerSec);
  }

  /** Back at full burst: the bucket carries no information any more and may be forgotten. */
  get full(): boolean {
    this.refill();
    return this.tokens >= this.burst;
  }

  private refill(): void {
    const now = this.now();
    const elapsedS = (now - this.last) / 1000;
    this.last = now;
    if (elapsedS > 0) this.tokens = Math.min(this.burst, this.tokens + elapsedS * this.ratePerSec);
  }
}

/** `ok`: let the frame through; `limited`: refuse it (rate_limited); `abuse`: close the socket (1008). */
export type RateVerdict = 'ok' | 'limited' | 'abuse';

/** Refusals in a row (no frame accepted in between), in units of the burst, that mean abuse. */
export const FLOOD_BURSTS = 10;

/**
 * The frames one client sends (CLIENT_RATE_PER_SEC / CLIENT_RATE_BURST). A client whose frames
 * keep being refused without the bucket ever letting one through is flooding, not bursting.
 */
export class ClientRateLimiter {
  private readonly bucket: TokenBucket;
  private refusedInARow = 0;
  private readonly floodAfter: number;

  constructor(ratePerSec: number, burst: number, now?: () => number, from?: BucketState & { refused: number }) {
    this.bucket = new TokenBucket(ratePerSec, burst, now, from);
    this.refusedInARow = from?.refused ?? 0;
    this.floodAfter = FLOOD_BURSTS * burst;
  }

  /** The bucket and the refusals in a row (to store, or to start another limiter from). */
  get state(): BucketState & { refused: number } {
    return { ...this.bucket.state, refused: this.refusedInARow };
  }

  check(): RateVerdict {
    if (this.bucket.take()) {
      this.refusedInARow = 0;
      return 'ok';
    }
    this.refusedInARow++;
    return this.refusedInARow >= this.floodAfter ? 'abuse' : 'limited';
  }
}
