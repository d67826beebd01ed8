/**
 * Token bucket for the frames a client sends (CLIENT_RATE_PER_SEC / CLIENT_RATE_BURST), kept on
 * the session so that reconnecting does not refill it. A client whose frames keep being refused
 * without the bucket ever recovering is flooding and gets closed (1008).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSec);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export type RateVerdict = 'ok' | 'limited' | 'abuse';

/** Refusals in a row (no frame accepted in between), in units of the burst, that mean abuse. */
export const FLOOD_BURSTS = 10;

export class ClientRateLimiter {
  private readonly bucket: TokenBucket;
  private refusedInARow = 0;
  private readonly floodAfter: number;

  constructor(ratePerSec: number, burst: number, now?: () => number) {
    this.bucket = new TokenBucket(ratePerSec, burst, now);
    this.floodAfter = FLOOD_BURSTS * burst;
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
