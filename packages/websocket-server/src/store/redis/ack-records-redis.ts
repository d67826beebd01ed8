/**
 * §8 de-duplication records in Redis (store/ack-records.ts): the ids a session's client had
 * accepted (`{clientId}` tag: they go with the session's other keys; at least the last
 * CLIENT_IDS_KEPT, in lua.ts's two generations). An id is looked up when its frame arrives and
 * recorded once the frame is accepted (with the session's next intake: pending-id-records.ts): a broker that dies
 * in between leaves nothing recorded, and the resend is recognised where the frame was stored
 * instead (the hold of inflight-redis.ts, the wait queue's offer). Agent frames need no record
 * here: the session log's append recognises them.
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import type { AckRecords } from '../ack-records.ts';
import type { Keys } from './keys.ts';
import { oldGeneration, REFS_LUA } from './lua.ts';
import { PendingIdRecords, recordLua } from './pending-id-records.ts';

/** ARGV: id, time pairs. KEYS[2]: the session's ids (recordLua's layout; KEYS[1] unused). */
const ACCEPT_CLIENT = `${REFS_LUA}${recordLua('#ARGV / 2', '1')}
return 1
`;

export class RedisAckRecords implements AckRecords {
  /** Accepted ids on their way to Redis (pending-id-records.ts). */
  readonly pending: PendingIdRecords;
  /** Told of every accepted client id (owned-intake.ts: a resend of it is a duplicate). */
  onAccepted: ((clientId: string, id: string) => void) | undefined;

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    onError: (err: unknown) => void = () => undefined,
  ) {
    this.pending = new PendingIdRecords((clientId, pairs) => {
      const keys = [this.keys.clientIds(clientId), this.keys.clientIds(clientId), this.keys.session(clientId)];
      this.redis.eval(ACCEPT_CLIENT, keys, pairs).catch(onError);
    });
  }

  async seenFromClient(clientId: string, id: string): Promise<boolean> {
    if (this.pending.has(clientId, id)) return true;
    const key = this.keys.clientIds(clientId);
    const [now, old] = await Promise.all([this.redis.cmd<number>(['HEXISTS', key, id]), this.redis.cmd<number>(['HEXISTS', oldGeneration(key), id])]);
    return now === 1 || old === 1;
  }

  /** Written with the session's next intake, or shortly on its own (pending-id-records.ts). */
  acceptedFromClient(clientId: string, id: string): void {
    this.pending.add(clientId, id);
    this.onAccepted?.(clientId, id);
  }

  async forgetClient(clientId: string): Promise<void> {
    this.pending.forget(clientId);
    await this.redis.cmd(['DEL', this.keys.clientIds(clientId), oldGeneration(this.keys.clientIds(clientId))]);
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
