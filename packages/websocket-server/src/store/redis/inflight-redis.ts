/**
 * §8 in a cluster: every client message for an agent connection is written here (`{a:name}` tag,
 * beside the name's pool) and, in the same script, published to the broker holding that
 * connection — so a broker that dies at any point after the script loses nothing (the message is
 * held for the connection, and whoever takes the connection over redelivers it), and before it
 * nothing was stored (the client, not having seen `accepted`, resends). The hold is idempotent per
 * client frame (clientId + the frame's own id): a resend after its first copy was held — the
 * accepted lost with a dying broker — is recognised here and not held twice. An opted-in
 * connection's messages stay until its `ack`; a v1 connection's go once written to its socket.
 * When a connection goes (or its broker dies) what it still holds is taken, oldest first.
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import type { WaitEntry } from '../../agent-wait-queue.ts';
import { pairs } from './agent-directory-redis.ts';
import type { Keys } from './keys.ts';

/**
 * KEYS: pool, pins, refs. ARGV: clientId, msgId, entry JSON, limit, ttl, inflight prefix, ref key
 * ('' when the frame had no id), now, ref ttl, this broker, bus channel prefix, agentId to pin to
 * first ('' to use the client's pin).
 * Answers {1, agentId, node, published} (held, and published unless that broker is this one),
 * {2} (this frame was held before: a resend), {3} (the name's older messages are being routed
 * again — a connection went, or a queue drains —: a fresh one waits, so it cannot overtake them),
 * or {0, pool} (no valid pin: the caller picks). KEYS[4]: the name's fence; ARGV[13]: fresh.
 */
const HOLD = `
if ARGV[13] == '1' and tonumber(redis.call('GET', KEYS[4]) or '0') > 0 then return {3} end
if ARGV[12] ~= '' and redis.call('HEXISTS', KEYS[1], ARGV[12]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[12])
end
local pinned = redis.call('HGET', KEYS[2], ARGV[1])
local node = pinned and redis.call('HGET', KEYS[1], pinned)
if not node then return {0, redis.call('HGETALL', KEYS[1])} end
local now = tonumber(ARGV[8])
if ARGV[7] ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[9]))
  if redis.call('ZADD', KEYS[3], 'NX', now, ARGV[7]) == 0 then return {2} end
  redis.call('PEXPIRE', KEYS[3], ARGV[9])
end
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
local published = 0
local heard = 0
if node ~= ARGV[10] then
  heard = redis.call('PUBLISH', ARGV[11] .. node, 'J{"kind":"client.message","agentId":"' .. pinned .. '","node":"' .. node .. '","entry":' .. ARGV[3] .. '}')
  published = 1
end
return {1, pinned, node, published, heard}
`;

const FENCE = `
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n <= 0 then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n
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

/** The longest a name's fresh messages wait for its older ones to be routed again. */
export const FENCE_MS = 5000;

/** Stored without this process's clock (receivedAt). */
export const encodeEntry = ({ receivedAt: _, ...rest }: WaitEntry): string => JSON.stringify(rest);

/** The idempotency key of a client frame (its clientId and own id); '' for a frame without one. */
export const refKey = (entry: WaitEntry): string => (entry.ref === undefined ? '' : `${entry.clientId}\n${entry.ref}`);

export type HoldAnswer =
  /** `heard`: brokers that received the publish (0: that broker is gone: a suspect for the sweeper). */
  | { state: 'held'; agentId: string; node: string; published: boolean; heard: number }
  | { state: 'resent' }
  | { state: 'fenced' }
  | { state: 'unpinned'; pool: [string, string][] };

export class RedisInflight {
  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    private readonly nodeId: string,
    /** AGENT_QUEUE_LIMIT: beyond it, the oldest count as delivered (PROTOCOL §8). */
    private readonly limit: number,
    private readonly sessionTtlMs: number,
  ) {}

  private held(name: string, agentId: string): string[] {
    return [this.keys.inflightOrder(name, agentId), this.keys.inflight(name, agentId), this.keys.inflightSeq(name, agentId)];
  }

  /**
   * Hold the entry for the client's pinned connection of `name` (or `pinTo`, pinning the client to
   * it) and publish it to that connection's broker, in one step. `fresh`: a frame just read from
   * its client (recognised if it was held before); otherwise one routed again.
   */
  async hold(name: string, entry: WaitEntry, fresh: boolean, pinTo = ''): Promise<HoldAnswer> {
    const answer = await this.redis.eval<[1, string, string, number, number] | [2] | [3] | [0, string[] | Record<string, string>]>(
      HOLD,
      [this.keys.pool(name), this.keys.pins(name), this.keys.heldRefs(name), this.keys.fence(name)],
      [
        entry.clientId,
        entry.msgId ?? '',
        encodeEntry(entry),
        String(Math.max(1, this.limit)),
        String(this.sessionTtlMs + 60_000),
        this.keys.inflight(name, ''),
        fresh ? refKey(entry) : '',
        String(Date.now()),
        String(this.sessionTtlMs),
        this.nodeId,
        this.keys.busNode(''),
        pinTo,
        fresh ? '1' : '0',
      ],
    );
    if (answer[0] === 1) return { state: 'held', agentId: answer[1], node: answer[2], published: answer[3] === 1, heard: answer[4] };
    if (answer[0] === 2) return { state: 'resent' };
    if (answer[0] === 3) return { state: 'fenced' };
    return { state: 'unpinned', pool: pairs(answer[1]) };
  }

  /**
   * While a name's older messages are routed again (a connection went and its messages are put
   * back, or its queue drains), fresh messages for the name wait (on: for at most FENCE_MS, so a
   * broker dying meanwhile cannot stop the name for long).
   */
  async fence(name: string, on: boolean): Promise<void> {
    // A count: several brokers may route a name's older messages at once (two takeovers, a drain);
    // the fence stands until the last of them is done.
    await this.redis.eval(FENCE, [this.keys.fence(name)], [on ? '1' : '-1', String(FENCE_MS)]);
  }

  /** Written to a v1 connection's socket, or acknowledged by an opted-in one. */
  async done(name: string, agentId: string, msgId: string): Promise<boolean> {
    return (await this.redis.eval<number>(DONE, this.held(name, agentId).slice(0, 2), [msgId])) === 1;
  }

  /** What the connection still holds, oldest first; removed. Whose wait ended is left out. */
  async take(name: string, agentId: string, now = Date.now()): Promise<WaitEntry[]> {
    const all = await this.redis.eval<string[]>(TAKE, this.held(name, agentId), []);
    return all.map((j) => JSON.parse(j) as WaitEntry).filter((e) => e.sentAt + this.sessionTtlMs > now);
  }
}
