/**
 * Each session's token bucket in Redis (CLIENT_RATE_PER_SEC / _BURST), so that reconnecting to
 * another broker does not refill it: one script per frame takes a token and counts refusals in a
 * row (beyond FLOOD_BURSTS × burst: `abuse`, the socket is closed 1008), as the memory bucket does.
 */
import { FLOOD_BURSTS } from '@agent-bridge/common';
import type { RedisLink } from '@agent-bridge/common/redis';
import type { RateLimitStore, RateVerdict } from '../rate-limit-store.ts';
import type { Keys } from './keys.ts';

/**
 * The bucket's hash fields: its tokens, the time it last refilled (ms) and the refusals in a row.
 * Named once for the scripts below and for the owning broker's write-through (bucketWrite).
 */
const T = 't';
const TS = 'ts';
const X = 'x';

/** The HSET that stores a bucket as the scripts do (owned-intake.ts writes its memory bucket through). */
export const bucketWrite = (key: string, b: { tokens: number; last: number; refused: number }): string[] =>
  ['HSET', key, T, String(b.tokens), TS, String(b.last), X, String(b.refused)];

/**
 * The token bucket, shared with the client intake script (client-intake-redis.ts), in three
 * parts so that one script can take several tokens with one read and one write of the bucket:
 * KEYS[1] the bucket; ARGV now, rate, burst, refusals-in-a-row for abuse, TTL. BUCKET_OPEN reads
 * and refills it, each BUCKET_STEP takes one token and sets `verdict`, BUCKET_CLOSE writes it back.
 */
export const BUCKET_OPEN = `
local b = redis.call('HMGET', KEYS[1], '${T}', '${TS}', '${X}')
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tokens = tonumber(b[1] or ARGV[3])
local ts = tonumber(b[2] or ARGV[1])
local refused = tonumber(b[3] or '0')
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) end
local verdict = 'ok'
`;

export const BUCKET_STEP = `
if tokens >= 1 then
  tokens = tokens - 1
  refused = 0
  verdict = 'ok'
else
  refused = refused + 1
  if refused >= tonumber(ARGV[4]) then verdict = 'abuse' else verdict = 'limited' end
end
`;

export const BUCKET_CLOSE = `
redis.call('HSET', KEYS[1], '${T}', tokens, '${TS}', math.max(now, ts), '${X}', refused)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
`;

const TAKE = `${BUCKET_OPEN}${BUCKET_STEP}${BUCKET_CLOSE}
return verdict
`;

/** A bucket key's TTL: a full bucket is the same as none, so the key may go once it would have refilled. */
export const bucketTtlMs = (ratePerSec: number, burst: number): number => Math.ceil((burst / ratePerSec) * 1000) + 60_000;

/**
 * The bucket scripts' arguments for one take: `now` and the bucket's fixed settings (rate, burst, the
 * refusals in a row that are abuse, and the key's TTL: a full bucket is the same as none, so the
 * key may go once it would have refilled). The fixed part is rendered once per store.
 */
export class BucketArgs {
  private readonly fixed: string[];
  /** The bucket's key lifetime (ms), as PEXPIRE takes it. */
  readonly ttl: string;

  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
  ) {
    this.ttl = String(bucketTtlMs(ratePerSec, burst));
    this.fixed = [String(ratePerSec), String(burst), String(FLOOD_BURSTS * burst), this.ttl];
  }

  at(now: number): string[] {
    return [String(now), ...this.fixed];
  }
}

export class RedisRateLimitStore implements RateLimitStore {
  private readonly args: BucketArgs;

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    ratePerSec: number,
    burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.args = new BucketArgs(ratePerSec, burst);
  }

  take(clientId: string): Promise<RateVerdict> {
    return this.redis.eval<RateVerdict>(TAKE, [this.keys.rate(clientId)], this.args.at(this.now()));
  }

  async forget(clientId: string): Promise<void> {
    await this.redis.cmd(['DEL', this.keys.rate(clientId)]);
  }
}
