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
 * The token bucket step, shared with the client intake script (client-intake-redis.ts): KEYS[1]
 * the bucket; ARGV now, rate, burst, refusals-in-a-row for abuse, TTL. Leaves `verdict` set.
 */
export const BUCKET_LUA = `
local b = redis.call('HMGET', KEYS[1], 't', 'ts', 'x')
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tokens = tonumber(b[1] or ARGV[3])
local ts = tonumber(b[2] or ARGV[1])
local refused = tonumber(b[3] or '0')
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) end
local verdict = 'ok'
if tokens >= 1 then
  tokens = tokens - 1
  refused = 0
else
  refused = refused + 1
  if refused >= tonumber(ARGV[4]) then verdict = 'abuse' else verdict = 'limited' end
end
redis.call('HSET', KEYS[1], 't', tokens, 'ts', math.max(now, ts), 'x', refused)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
`;

const TAKE = `${BUCKET_LUA}
return verdict
`;

export class RedisRateLimitStore implements RateLimitStore {
  /** A full bucket is the same as none: the key may go once it would have refilled. */
  private readonly ttlMs: number;

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.ttlMs = Math.ceil((burst / ratePerSec) * 1000) + 60_000;
  }

  take(clientId: string): Promise<RateVerdict> {
    return this.redis.eval<RateVerdict>(TAKE, [this.keys.rate(clientId)], [
      String(this.now()),
      String(this.ratePerSec),
      String(this.burst),
      String(FLOOD_BURSTS * this.burst),
      String(this.ttlMs),
    ]);
  }

  async forget(clientId: string): Promise<void> {
    await this.redis.cmd(['DEL', this.keys.rate(clientId)]);
  }
}
