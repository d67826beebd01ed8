/**
 * A token bucket: `burst` tokens, refilled at `ratePerSec`. Used for the edge frame limit (one
 * per browser socket) and, keyed, for upgrade limits (per clientId, per IP).
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
