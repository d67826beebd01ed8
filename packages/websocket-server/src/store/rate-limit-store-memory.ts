/** Buckets in this process, one per session; synchronous. */
import { ClientRateLimiter } from '../rate-limiter.ts';
import type { RateLimitStore, RateVerdict } from './rate-limit-store.ts';

export class MemoryRateLimitStore implements RateLimitStore {
  private readonly buckets = new Map<string, ClientRateLimiter>();

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly now?: () => number,
  ) {}

  take(clientId: string): RateVerdict {
    let b = this.buckets.get(clientId);
    if (!b) this.buckets.set(clientId, (b = new ClientRateLimiter(this.ratePerSec, this.burst, this.now)));
    return b.check();
  }

  forget(clientId: string): void {
    this.buckets.delete(clientId);
  }
}
