/**
 * A process-wide byte budget (OUTAGE_HOLD_BYTES): every pipe's outage hold draws from it, so the
 * frames held while the broker is down are bounded globally, not only per browser socket.
 */
export class ByteBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Reserve `bytes`; false (nothing reserved) when that would pass the limit. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  /**
   * Reserve `bytes` whatever the limit: frames already accepted into memory once (handed to a
   * broker that was then lost) move back into the hold; they are bounded by count elsewhere.
   */
  force(bytes: number): void {
    this.used += bytes;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}
