/**
 * ClientIntake (store/client-intake.ts) on Redis: the bucket, the §8 ids and the address in one
 * script, for a batch of frames. The ids are only looked up here; they are recorded once their
 * frames are accepted (a broker that dies in between must not leave an id recorded for a frame
 * it never stored).
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import type { ClientIntake, IntakeAnswer, IntakeBatch } from '../client-intake.ts';
import type { Keys } from './keys.ts';
import { BUCKET_CLOSE, BUCKET_OPEN, BUCKET_STEP, BucketArgs } from './rate-limit-store-redis.ts';

/** ARGV: the bucket's five, then one id per frame. Answers {address, verdict1, dup1, verdict2, …}. */
const INTAKE = `${BUCKET_OPEN}
local out = {redis.call('HGET', KEYS[3], 'address') or ''}
for i = 6, #ARGV do
  ${BUCKET_STEP}
  local dup = 0
  if verdict == 'ok' and ARGV[i] ~= '' and redis.call('ZSCORE', KEYS[2], ARGV[i]) then dup = 1 end
  table.insert(out, verdict)
  table.insert(out, dup)
end
${BUCKET_CLOSE}
return out
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

  async take(clientId: string, ids: string[]): Promise<IntakeBatch> {
    const reply = await this.redis.eval<(string | number)[]>(
      INTAKE,
      [this.keys.rate(clientId), this.keys.clientIds(clientId), this.keys.session(clientId)],
      [...this.bucket.at(Date.now()), ...ids],
    );
    const answers: IntakeAnswer[] = [];
    for (let i = 1; i < reply.length; i += 2) answers.push({ verdict: reply[i] as IntakeAnswer['verdict'], duplicate: reply[i + 1] === 1 });
    const address = reply[0] as string;
    return { answers, address: address ? address : null };
  }
}
