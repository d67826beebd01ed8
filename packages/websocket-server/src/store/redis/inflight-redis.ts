/**
 * §8 in a cluster: every client.message handed towards an agent connection is written here first
 * (`{a:name}` tag, beside the name's pool), and only then published to the connection's broker
 * and answered `accepted`: a broker that dies with messages in its agents' mailboxes, sockets or
 * on the bus to it loses none of them. An opted-in connection's messages stay until it sends
 * `ack`; a v1 connection's go once written to its socket. When a connection goes (or its broker
 * dies) what it still holds is taken, in order, and delivered again (`redelivered:true`).
 *
 * The add fails when the connection is no longer in its name's pool (one script, same slot): a
 * connection's removal from the pool comes before its take, so every message is either taken or
 * never added (the router then picks again).
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import type { WaitEntry } from '../../agent-wait-queue.ts';
import { pairs } from './agent-directory-redis.ts';
import type { Keys } from './keys.ts';

const ADD = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local n = redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[2], n, ARGV[2])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over > 0 then
  for _, old in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do
    redis.call('ZREM', KEYS[2], old)
    redis.call('HDEL', KEYS[3], old)
  end
end
for i = 2, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
return 1
`;

/**
 * The hot path in one step: the client's pin (while its connection is in the pool) and the hold
 * for that connection. No valid pin: answer the pool, and the caller picks (rendezvous) and pins.
 * The held keys are built here from the pin (same `{a:name}` slot as the declared ones).
 */
const PICK_HOLD = `
local pinned = redis.call('HGET', KEYS[2], ARGV[1])
local node = pinned and redis.call('HGET', KEYS[1], pinned)
if not node then return {0, redis.call('HGETALL', KEYS[1])} end
if ARGV[2] ~= '' then
  local base = ARGV[6] .. pinned
  local n = redis.call('INCR', base .. ':n')
  redis.call('ZADD', base .. ':order', n, ARGV[2])
  redis.call('HSET', base, ARGV[2], ARGV[3])
  local over = redis.call('ZCARD', base .. ':order') - tonumber(ARGV[4])
  if over > 0 then
    for _, old in ipairs(redis.call('ZRANGE', base .. ':order', 0, over - 1)) do
      redis.call('ZREM', base .. ':order', old)
      redis.call('HDEL', base, old)
    end
  end
  redis.call('PEXPIRE', base, ARGV[5])
  redis.call('PEXPIRE', base .. ':order', ARGV[5])
  redis.call('PEXPIRE', base .. ':n', ARGV[5])
end
return {1, pinned, node}
`;

const DONE = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`;

const TAKE = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for _, id in ipairs(ids) do
  local e = redis.call('HGET', KEYS[2], id)
  if e then table.insert(out, e) end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return out
`;

/** Stored without this process's clock (receivedAt). */
const encode = ({ receivedAt: _, ...rest }: WaitEntry): string => JSON.stringify(rest);

export class RedisInflight {
  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    /** AGENT_QUEUE_LIMIT: beyond it, the oldest count as delivered (PROTOCOL §8). */
    private readonly limit: number,
    private readonly sessionTtlMs: number,
  ) {}

  private keysOf(name: string, agentId: string): string[] {
    return [this.keys.pool(name), this.keys.inflightOrder(name, agentId), this.keys.inflight(name, agentId), this.keys.inflightSeq(name, agentId)];
  }

  /** Written for `agentId` (false: that connection has left its pool: pick again). */
  async add(name: string, agentId: string, entry: WaitEntry): Promise<boolean> {
    if (entry.msgId === undefined) return (await this.redis.cmd<number>(['HEXISTS', this.keys.pool(name), agentId])) === 1;
    const ok = await this.redis.eval<number>(ADD, this.keysOf(name, agentId), [agentId, entry.msgId, encode(entry), String(Math.max(1, this.limit)), String(this.sessionTtlMs + 60_000)]);
    return ok === 1;
  }

  /**
   * The pinned connection of `name` for the entry's client, with the entry held for it, in one
   * step; `{ pool }` when the client has no valid pin (the caller picks, pins and adds).
   */
  async pickAndHold(name: string, entry: WaitEntry): Promise<{ agentId: string; node: string } | { pool: [string, string][] }> {
    const answer = await this.redis.eval<[1, string, string] | [0, string[] | Record<string, string>]>(
      PICK_HOLD,
      [this.keys.pool(name), this.keys.pins(name)],
      [entry.clientId, entry.msgId ?? '', entry.msgId === undefined ? '' : encode(entry), String(Math.max(1, this.limit)), String(this.sessionTtlMs + 60_000), this.keys.inflight(name, '')],
    );
    if (answer[0] === 1) return { agentId: answer[1], node: answer[2] };
    return { pool: pairs(answer[1]) };
  }

  /** Written to a v1 connection's socket, or acknowledged by an opted-in one. */
  async done(name: string, agentId: string, msgId: string): Promise<boolean> {
    return (await this.redis.eval<number>(DONE, this.keysOf(name, agentId).slice(1, 3), [msgId])) === 1;
  }

  /** What the connection still holds, oldest first; removed. Whose wait ended is left out. */
  async take(name: string, agentId: string, now = Date.now()): Promise<WaitEntry[]> {
    const all = await this.redis.eval<string[]>(TAKE, this.keysOf(name, agentId).slice(1), []);
    return all.map((j) => JSON.parse(j) as WaitEntry).filter((e) => e.sentAt + this.sessionTtlMs > now);
  }
}
