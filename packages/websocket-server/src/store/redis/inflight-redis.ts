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
import { generationOf, REFS_LUA } from './lua.ts';

/**
 * KEYS: pool, pins, refs, the name's fence. ARGV: clientId, limit, ttl, inflight prefix, now, ref
 * ttl, this broker, bus channel prefix, agentId to pin to first ('' to use the client's pin),
 * fresh ('1'/'0'), refs per generation (lua.ts), then per entry (all of one client, in order):
 * msgId, entry JSON, ref key ('' when the frame had no id or is not fresh).
 * Answers {1, agentId, node, published, heard, state…} (per entry 1: held, 2: held before — a
 * resend; the held ones published together unless that broker is this one), {3} (the name's
 * older messages are being routed again — a connection went, or a queue drains —: fresh ones
 * wait, so they cannot overtake them), or {0, pool} (no valid pin: the caller picks).
 */
const HOLD = `${REFS_LUA}
if ARGV[10] == '1' and tonumber(redis.call('GET', KEYS[4]) or '0') > 0 then return {3} end
if ARGV[9] ~= '' and redis.call('HEXISTS', KEYS[1], ARGV[9]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[9])
end
local pinned = redis.call('HGET', KEYS[2], ARGV[1])
local node = pinned and redis.call('HGET', KEYS[1], pinned)
if not node then return {0, redis.call('HGETALL', KEYS[1])} end
local base = ARGV[4] .. pinned
local out = {1, pinned, node, 0, 0}
-- Which of the frames were held before (one look for all; a frame twice in the batch counts too).
local refs = {}
for i = 14, #ARGV, 3 do if ARGV[i] ~= '' then table.insert(refs, ARGV[i]) end end
local known = seen(KEYS[3], refs, tonumber(ARGV[5]) - tonumber(ARGV[6]))
local add, ids, fields, held = {}, {}, {}, {}
for i = 12, #ARGV, 3 do
  if not first(known, add, ARGV[5], ARGV[i + 2]) then
    table.insert(out, 2)
  else
    if ARGV[i] ~= '' then
      table.insert(ids, ARGV[i])
      table.insert(fields, ARGV[i])
      table.insert(fields, ARGV[i + 1])
    end
    table.insert(held, ARGV[i + 1])
    table.insert(out, 1)
  end
end
if remember(KEYS[3], add, tonumber(ARGV[11])) then redis.call('PEXPIRE', KEYS[3], ARGV[6]) end
if #ids > 0 then
  local over = redis.call('RPUSH', base .. ':list', unpack(ids)) - tonumber(ARGV[2])
  redis.call('HSET', base, unpack(fields))
  if over > 0 then redis.call('HDEL', base, unpack(redis.call('LPOP', base .. ':list', over))) end
  redis.call('PEXPIRE', base, ARGV[3])
  redis.call('PEXPIRE', base .. ':list', ARGV[3])
end
if node ~= ARGV[7] and #held > 0 then
  -- One concatenation: Lua hashes every byte of each string it makes, and the entries are frames.
  local msg = {'J{"kind":"client.messages","agentId":"', pinned, '","node":"', node, '","entries":[', held[1]}
  for k = 2, #held do
    msg[#msg + 1] = ','
    msg[#msg + 1] = held[k]
  end
  msg[#msg + 1] = ']}'
  out[5] = redis.call('PUBLISH', ARGV[8] .. node, table.concat(msg))
  out[4] = 1
end
return out
`;

const FENCE = `
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n <= 0 then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n
`;

const DONE = `
for _, id in ipairs(ARGV) do redis.call('LREM', KEYS[1], 1, id) end
redis.call('HDEL', KEYS[2], unpack(ARGV))
return 1
`;

const TAKE = `
local ids = redis.call('LRANGE', KEYS[1], 0, -1)
local out = {}
for _, id in ipairs(ids) do
  local e = redis.call('HGET', KEYS[2], id)
  if e then table.insert(out, e) end
end
redis.call('DEL', KEYS[1], KEYS[2])
return out
`;

/** The longest a name's fresh messages wait for its older ones to be routed again. */
export const FENCE_MS = 5000;

/** Stored without this process's clock (receivedAt). */
export const encodeEntry = ({ receivedAt: _, ...rest }: WaitEntry): string => JSON.stringify(rest);

/** The idempotency key of a client frame (its clientId and own id); '' for a frame without one. */
export const refKey = (entry: WaitEntry): string => (entry.ref === undefined ? '' : `${entry.clientId}\n${entry.ref}`);

export type HoldAnswer =
  /**
   * `resent[i]`: entry i was held before (a resend: not held or published again). `heard`: brokers
   * that received the publish (0: that broker is gone: a suspect for the sweeper).
   */
  | { state: 'held'; agentId: string; node: string; published: boolean; heard: number; resent: boolean[] }
  | { state: 'fenced' }
  | { state: 'unpinned'; pool: [string, string][] };

export class RedisInflight {
  /** Acknowledged ids not yet removed, per connection's keys (removed together: `done`). */
  private readonly acked = new Map<string, { keys: string[]; ids: string[]; done: Promise<void> }>();

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    private readonly nodeId: string,
    /** AGENT_QUEUE_LIMIT: beyond it, the oldest count as delivered (PROTOCOL §8). */
    private readonly limit: number,
    private readonly sessionTtlMs: number,
    /** CLUSTER_REFS_LIMIT: the most resend references kept per name (the oldest go first). */
    private readonly refsLimit: number,
  ) {}

  private held(name: string, agentId: string): string[] {
    return [this.keys.inflightOrder(name, agentId), this.keys.inflight(name, agentId)];
  }

  /**
   * Hold one client's entries, in order, for its pinned connection of `name` (or `pinTo`, pinning
   * the client to it) and publish them to that connection's broker, in one step. `fresh`: frames
   * just read from their client (each recognised if it was held before); otherwise routed again.
   */
  async hold(name: string, entries: WaitEntry[], fresh: boolean, pinTo = ''): Promise<HoldAnswer> {
    const args = [
      entries[0]!.clientId,
      String(Math.max(1, this.limit)),
      String(this.sessionTtlMs + 60_000),
      this.keys.inflight(name, ''),
      String(Date.now()),
      String(this.sessionTtlMs),
      this.nodeId,
      this.keys.busNode(''),
      pinTo,
      fresh ? '1' : '0',
      String(generationOf(this.refsLimit)),
    ];
    for (const e of entries) args.push(e.msgId ?? '', encodeEntry(e), fresh ? refKey(e) : '');
    const answer = await this.redis.eval<(string | number)[] | [3] | [0, string[] | Record<string, string>]>(
      HOLD,
      [this.keys.pool(name), this.keys.pins(name), this.keys.heldRefs(name), this.keys.fence(name)],
      args,
    );
    if (answer[0] === 1) {
      const a = answer as (string | number)[];
      return { state: 'held', agentId: a[1] as string, node: a[2] as string, published: a[3] === 1, heard: a[4] as number, resent: a.slice(5).map((s) => s === 2) };
    }
    if (answer[0] === 3) return { state: 'fenced' };
    return { state: 'unpinned', pool: pairs((answer as [0, string[] | Record<string, string>])[1]) };
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

  /**
   * Written to a v1 connection's socket, or acknowledged by an opted-in one. The ids of one
   * connection that come in the same turn (an agent acknowledges a burst of messages in one read)
   * are removed by one script, issued before anything this connection asks later (take).
   */
  done(name: string, agentId: string, msgId: string): Promise<void> {
    const key = `${name}\n${agentId}`;
    const pending = this.acked.get(key);
    if (pending) {
      pending.ids.push(msgId);
      return pending.done;
    }
    const batch = { keys: this.held(name, agentId), ids: [msgId], done: Promise.resolve() };
    batch.done = Promise.resolve().then(() => {
      this.acked.delete(key);
      return this.redis.eval(DONE, batch.keys, batch.ids).then(() => undefined);
    });
    this.acked.set(key, batch);
    return batch.done;
  }

  /** What the connection still holds, oldest first; removed. Whose wait ended is left out. */
  async take(name: string, agentId: string, now = Date.now()): Promise<WaitEntry[]> {
    // Acknowledgements of this turn go first: what was acknowledged is not redelivered.
    await this.acked.get(`${name}\n${agentId}`)?.done.catch(() => undefined);
    const all = await this.redis.eval<string[]>(TAKE, this.held(name, agentId), []);
    return all.map((j) => JSON.parse(j) as WaitEntry).filter((e) => e.sentAt + this.sessionTtlMs > now);
  }
}
