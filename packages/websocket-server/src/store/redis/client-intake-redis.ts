/**
 * ClientIntake (store/client-intake.ts) on Redis: the bucket, the §8 ids and the address in one
 * script, for a batch of frames. The ids are only looked up here; they are recorded once their
 * frames are accepted (a broker that dies in between must not leave an id recorded for a frame
 * it never stored) — by the session's next intake, which writes the ids accepted since its last
 * one before it looks at its own (pending-id-records.ts).
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import type { ClientIntake, IntakeAnswer, IntakeBatch } from '../client-intake.ts';
import type { Keys } from './keys.ts';
import { oldGenerationLua, REFS_LUA } from './lua.ts';
import { type PendingIdRecords, recordLua } from './pending-id-records.ts';
import { BUCKET_CLOSE, BUCKET_OPEN, BUCKET_STEP, BucketArgs } from './rate-limit-store-redis.ts';

/**
 * ARGV: the bucket's five, what state to answer too ('0' none, '1' the bucket, '2' the bucket and
 * the ids), the number n of pending id records, their 2n (id, time), then one id per frame. The
 * records go first, so a resend among the frames is recognised. Answers {address, state, verdict1,
 * dup1, verdict2, …}; state is {} or {tokens, ts, refused, ids…}: the bucket as the script left it
 * and, with '2', every id the session has recorded (owned-intake.ts answers from them until its
 * next round trip).
 */
const INTAKE = `${REFS_LUA}${BUCKET_OPEN}
local n = tonumber(ARGV[7])
${recordLua('n', '8')}
local out = {redis.call('HGET', KEYS[3], 'address') or '', {}}
-- Every id of the batch looked up at once.
local ids = {}
for i = 8 + 2 * n, #ARGV do if ARGV[i] ~= '' then table.insert(ids, ARGV[i]) end end
local known = seen(KEYS[2], ids)
for i = 8 + 2 * n, #ARGV do
  ${BUCKET_STEP}
  local dup = 0
  if verdict == 'ok' and known[ARGV[i]] then dup = 1 end
  table.insert(out, verdict)
  table.insert(out, dup)
end
${BUCKET_CLOSE}
if ARGV[6] ~= '0' then
  -- As text: a reply turns a Lua number into an integer.
  local state = {tostring(tokens), tostring(math.max(now, ts)), tostring(refused)}
  if ARGV[6] == '2' then
    for _, key in ipairs({${oldGenerationLua('KEYS[2]')}, KEYS[2]}) do
      for _, id in ipairs(hash(redis.pcall('HKEYS', key), key) or {}) do table.insert(state, id) end
    end
  end
  out[2] = state
end
return out
`;

/** The session's state as an intake left it (`takeWithState`). */
export interface IntakeState {
  tokens: number;
  /** The bucket's last refill time (ms). */
  ts: number;
  refused: number;
  /** Every id the session has recorded, oldest generation first (asked with 'all'; else empty). */
  ids: string[];
}

export class RedisClientIntake implements ClientIntake {
  /** The bucket's rate and burst (owned-intake.ts answers by the same ones between round trips). */
  readonly bucket: BucketArgs;

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    ratePerSec: number,
    burst: number,
    /** Accepted ids not yet written: this session's are written by its next intake. */
    private readonly records?: PendingIdRecords,
  ) {
    this.bucket = new BucketArgs(ratePerSec, burst);
  }

  take(clientId: string, ids: string[]): Promise<IntakeBatch> {
    return this.takeWithState(clientId, ids, 'none');
  }

  /** The same, and the session's bucket (and its recorded ids) as the script left it (`state`). */
  async takeWithState(clientId: string, ids: string[], want: 'none' | 'bucket' | 'all'): Promise<IntakeBatch & { state?: IntakeState }> {
    const pairs = this.records?.take(clientId);
    const args = this.bucket.at(Date.now());
    args.push(want === 'none' ? '0' : want === 'bucket' ? '1' : '2', String(pairs ? pairs.length / 2 : 0));
    if (pairs) for (const p of pairs) args.push(p);
    for (const id of ids) args.push(id);
    let reply: (string | number | string[])[];
    try {
      reply = await this.redis.eval<(string | number | string[])[]>(INTAKE, [this.keys.rate(clientId), this.keys.clientIds(clientId), this.keys.session(clientId)], args);
    } catch (err) {
      // Not written (Redis unreachable, or the reply lost): they wait for the next try.
      if (pairs) this.records!.restore(clientId, pairs);
      throw err;
    }
    const answers: IntakeAnswer[] = [];
    for (let i = 2; i < reply.length; i += 2) answers.push({ verdict: reply[i] as IntakeAnswer['verdict'], duplicate: reply[i + 1] === 1 });
    const address = reply[0] as string;
    const s = reply[1] as string[];
    const state = s.length >= 3 ? { tokens: Number(s[0]), ts: Number(s[1]), refused: Number(s[2]), ids: s.slice(3) } : undefined;
    return { answers, address: address ? address : null, state };
  }
}
