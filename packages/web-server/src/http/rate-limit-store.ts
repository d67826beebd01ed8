/**
 * The HTTP rate limit's counter (RATE_LIMIT_HTTP_PER_MIN per IP on POST /api/clients and
 * /auth/*): a fixed window per key. MemoryHitCounter (rate-limit-store-memory.ts) counts in this
 * process; RedisHitCounter (rate-limit-store-redis.ts) counts across every web server of a
 * cluster (PROTOCOL §10). Both pass test/contracts/hit-counter.contract.ts.
 */
export interface Hits {
  /** Hits in the current window, this one included. */
  count: number;
  /** When the window ends (ms since the epoch). */
  resetAtMs: number;
}

export interface HitCounter {
  /** Count one hit for `key` in its current window. */
  hit(key: string): Promise<Hits>;
  /** Take one back (express-rate-limit's skip options); never below zero. */
  unhit(key: string): Promise<void>;
  /** Forget the key's window. */
  reset(key: string): Promise<void>;
  close(): void;
}
