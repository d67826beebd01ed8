/**
 * ClientIntake (store/client-intake.ts) on Redis: the bucket, the §8 id and the address in one
 * script. The id is only looked up here; it is recorded once the frame is accepted (a broker that
 * dies in between must not leave an id recorded for a frame it never stored).
 */
import { FLOOD_BURSTS } from '@agent-bridge/common';
import type { RedisLink } from '@agent-bridge/common/redis';
import type { ClientIntake, IntakeAnswer } from '../client-intake.ts';
import type { Keys } from './keys.ts';
import { BUCKET_LUA } from './rate-limit-store-redis.ts';

const INTAKE = `${BUCKET_LUA}
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
