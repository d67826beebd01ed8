/**
 * ClientIntake (store/client-intake.ts) on Redis: the bucket, the §8 id and the address in one
 * script. The id is only looked up here; it is recorded once the frame is accepted (a broker that
 * dies in between must not leave an id recorded for a frame it never stored).
 */
import { FLOOD_BURSTS } from '@agent-bridge/common';
import type { RedisLink } from '@agent-bridge/common/redis';
import type { ClientIntake, IntakeAnswer } from '../client-intake.ts';
import type { Keys } from './keys.ts';

const INTAKE = `
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
if verdict ~= 'ok' then return {verdict, 0, ''} end
local dup = 0
if ARGV[6] ~= '' and redis.call('ZSCORE', KEYS[2], ARGV[6]) then dup = 1 end
return {verdict, dup, redis.call('HGET', KEYS[3], 'address') or ''}
`;

export class RedisClientIntake implements ClientIntake {
  private readonly ttlMs: number;

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    private readonly ratePerSec: number,
    private readonly burst: number,
  ) {
    this.ttlMs = Math.ceil((burst / ratePerSec) * 1000) + 60_000;
  }

  async take(clientId: string, id: string | undefined): Promise<IntakeAnswer> {
    const [verdict, dup, address] = await this.redis.eval<[IntakeAnswer['verdict'], number, string]>(
      INTAKE,
      [this.keys.rate(clientId), this.keys.clientIds(clientId), this.keys.session(clientId)],
      [String(Date.now()), String(this.ratePerSec), String(this.burst), String(FLOOD_BURSTS * this.burst), String(this.ttlMs), id ?? ''],
    );
    return { verdict, duplicate: dup === 1, address: address ? address : null };
  }
}
