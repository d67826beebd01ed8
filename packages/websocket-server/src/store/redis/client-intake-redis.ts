/**
 * ClientIntake (store/client-intake.ts) on Redis: the bucket, the §8 id and the address in one
 * script. The id is only looked up here; it is recorded once the frame is accepted (a broker that
 * dies in between must not leave an id recorded for a frame it never stored).
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import type { ClientIntake, IntakeAnswer } from '../client-intake.ts';
import type { Keys } from './keys.ts';
import { BUCKET_LUA, BucketArgs } from './rate-limit-store-redis.ts';

const INTAKE = `${BUCKET_LUA}
if verdict ~= 'ok' then return {verdict, 0, ''} end
local dup = 0
if ARGV[6] ~= '' and redis.call('ZSCORE', KEYS[2], ARGV[6]) then dup = 1 end
return {verdict, dup, redis.call('HGET', KEYS[3], 'address') or ''}
`;

export class RedisClientIntake implements ClientIntake {
  private readonly bucket: BucketArgs;

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    ratePerSec: number,
    burst: number,
  ) {
    this.bucket = new BucketArgs(ratePerSec, burst);
  }

  async take(clientId: string, id: string | undefined): Promise<IntakeAnswer> {
    const [verdict, dup, address] = await this.redis.eval<[IntakeAnswer['verdict'], number, string]>(
      INTAKE,
      [this.keys.rate(clientId), this.keys.clientIds(clientId), this.keys.session(clientId)],
      [...this.bucket.at(Date.now()), id ?? ''],
    );
    return { verdict, duplicate: dup === 1, address: address ? address : null };
  }
}
