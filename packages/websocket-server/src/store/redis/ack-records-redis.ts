/**
 * §8 de-duplication records in Redis (store/ack-records.ts): a sorted set of the ids a session's
 * client had accepted (`{clientId}` tag: it goes with the session's other keys; the last
 * CLIENT_IDS_KEPT by arrival). An id is looked up when its frame arrives and recorded once the
 * frame is accepted: a broker that dies in between leaves nothing recorded, and the resend is
 * recognised where the frame was stored instead (the hold of inflight-redis.ts, the wait queue's
 * offer). Agent frames need no record here: the session log's append recognises them.
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import { CLIENT_IDS_KEPT } from '../../acks-ids.ts';
import type { AckRecords } from '../ack-records.ts';
import type { Keys } from './keys.ts';

/** ARGV: the ids kept, then score, id pairs. */
const ACCEPT_CLIENT = `
redis.call('ZADD', KEYS[1], unpack(ARGV, 2))
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[1]) - 1)
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) else redis.call('PERSIST', KEYS[1]) end
return 1
`;

export class RedisAckRecords implements AckRecords {
  private order = 0;
  /** Ids accepted in this turn, per session, recorded together (a burst of a client's frames). */
  private readonly pending = new Map<string, { args: string[]; done: Promise<void> }>();

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
  ) {}

  async seenFromClient(clientId: string, id: string): Promise<boolean> {
    return (await this.redis.cmd<string | null>(['ZSCORE', this.keys.clientIds(clientId), id])) !== null;
  }

  /**
   * The ids a session has accepted in one turn are recorded by one script, issued at the end of
   * the turn: before the broker asks about that session's next frames (router.ts awaits Redis
   * between batches), so a resend among them is recognised.
   */
  acceptedFromClient(clientId: string, id: string): Promise<void> {
    // The score orders ids by arrival (time, then a counter) so the oldest are trimmed first.
    const score = String(Date.now() * 1000 + (this.order++ % 1000));
    const batch = this.pending.get(clientId);
    if (batch) {
      batch.args.push(score, id);
      return batch.done;
    }
    const args = [String(CLIENT_IDS_KEPT), score, id];
    const done = Promise.resolve().then(() => {
      this.pending.delete(clientId);
      return this.redis.eval(ACCEPT_CLIENT, [this.keys.clientIds(clientId), this.keys.session(clientId)], args).then(() => undefined);
    });
    this.pending.set(clientId, { args, done });
    return done;
  }

  async forgetClient(clientId: string): Promise<void> {
    await this.redis.cmd(['DEL', this.keys.clientIds(clientId)]);
  }

  /**
   * Agent frames are de-duplicated where they are stored instead: each session log's append is
   * idempotent per agent name + id for SESSION_TTL_MS (session-log-redis.ts), so a resent `send` or
   * `broadcast` is answered `accepted` and appended to nobody twice — without a round trip before
   * its appends and another after (this lookup and record cost two scripts per agent frame).
   */
  seenFromAgent(): boolean {
    return false;
  }

  acceptedFromAgent(): void {}

}
