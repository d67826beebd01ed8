/**
 * §8 de-duplication records in Redis (store/ack-records.ts): a sorted set of ids per session
 * (`{clientId}` tag: it goes with the session's other keys; the last CLIENT_IDS_KEPT by arrival)
 * and one per agent name (`{a:name}` tag; scored by expiry, SESSION_TTL_MS). An id is added when
 * first seen (ZADD NX answers whether it was new: one step for every broker) and removed if its
 * frame is refused.
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import { CLIENT_IDS_KEPT } from '../../acks-ids.ts';
import type { AckRecords } from '../ack-records.ts';
import type { Keys } from './keys.ts';

const SEE_CLIENT = `
local added = redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
if added == 1 then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[3]) - 1)
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) else redis.call('PERSIST', KEYS[1]) end
end
return added
`;

const SEE_AGENT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local added = redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return added
`;

export class RedisAckRecords implements AckRecords {
  private order = 0;

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    private readonly sessionTtlMs: number,
  ) {}

  async seenFromClient(clientId: string, id: string): Promise<boolean> {
    // The score orders ids by arrival (time, then a counter) so the oldest are trimmed first.
    const score = Date.now() * 1000 + (this.order++ % 1000);
    const added = await this.redis.eval<number>(SEE_CLIENT, [this.keys.clientIds(clientId), this.keys.session(clientId)], [String(score), id, String(CLIENT_IDS_KEPT)]);
    return added === 0;
  }

  acceptedFromClient(): void {}

  async refusedFromClient(clientId: string, id: string): Promise<void> {
    await this.redis.cmd(['ZREM', this.keys.clientIds(clientId), id]);
  }

  async forgetClient(clientId: string): Promise<void> {
    await this.redis.cmd(['DEL', this.keys.clientIds(clientId)]);
  }

  async seenFromAgent(name: string, id: string): Promise<boolean> {
    const now = Date.now();
    const added = await this.redis.eval<number>(SEE_AGENT, [this.keys.agentIds(name)], [String(now), String(now + this.sessionTtlMs), id, String(this.sessionTtlMs + 1000)]);
    return added === 0;
  }

  acceptedFromAgent(): void {}

  async refusedFromAgent(name: string, id: string): Promise<void> {
    await this.redis.cmd(['ZREM', this.keys.agentIds(name), id]);
  }
}
