/**
 * Wait queues in Redis (PROTOCOL §5, §10): a list per agent name, shared by every broker, with the
 * same bounds as in memory (AGENT_QUEUE_LIMIT per name and per client, WAIT_QUEUE_CLIENT_BYTES per
 * client, WAIT_QUEUE_BUDGET_BYTES in all) checked and charged in one script. Every broker sweeps
 * the heads of the queues each second; a message whose wait ended is popped by exactly one of
 * them, which answers its client `agent_unavailable`. A message carries no process-local field
 * (receivedAt is this process's clock), so any broker can hand it on.
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import { ENTRY_OVERHEAD_BYTES, type OfferResult, type WaitEntry } from '../../agent-wait-queue.ts';
import type { WaitQueueStore } from '../wait-queue-store.ts';
import { refKey } from './inflight-redis.ts';
import type { Keys } from './keys.ts';
import { generationOf, REFS_LUA } from './lua.ts';

const OFFER = `${REFS_LUA}
if ARGV[9] ~= '' and seen(KEYS[5], {ARGV[9]}, tonumber(ARGV[10]) - tonumber(ARGV[8]))[ARGV[9]] then return 'ok' end
local limit = tonumber(ARGV[4])
if redis.call('LLEN', KEYS[1]) >= limit then return 'full' end
local n = tonumber(redis.call('HGET', KEYS[2], ARGV[2] .. ':n') or '0')
local b = tonumber(redis.call('HGET', KEYS[2], ARGV[2] .. ':b') or '0')
local charge = tonumber(ARGV[3])
if n >= limit or b + charge > tonumber(ARGV[5]) then return 'full' end
local total = tonumber(redis.call('GET', KEYS[3]) or '0')
if total + charge > tonumber(ARGV[6]) then return 'over_capacity' end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[2], ARGV[2] .. ':n', 1)
redis.call('HINCRBY', KEYS[2], ARGV[2] .. ':b', charge)
redis.call('INCRBY', KEYS[3], charge)
redis.call('SADD', KEYS[4], ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[8])
if ARGV[9] ~= '' then
  remember(KEYS[5], {ARGV[9], ARGV[10]}, tonumber(ARGV[11]))
  redis.call('PEXPIRE', KEYS[5], ARGV[8])
end
return 'ok'
`;

/** Uncharge popped entries (JSON with clientId and bytes) and forget an emptied name. */
const UNCHARGE = `
local function uncharge(json)
  local e = cjson.decode(json)
  local c = e.bytes + tonumber(ARGV[1])
  if redis.call('HINCRBY', KEYS[2], e.clientId .. ':n', -1) <= 0 then
    redis.call('HDEL', KEYS[2], e.clientId .. ':n', e.clientId .. ':b')
  else
    redis.call('HINCRBY', KEYS[2], e.clientId .. ':b', -c)
  end
  if redis.call('DECRBY', KEYS[3], c) <= 0 then redis.call('DEL', KEYS[3]) end
end
`;

const TAKE = `${UNCHARGE}
local all = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[4], ARGV[2])
for _, j in ipairs(all) do uncharge(j) end
return all
`;

const EXPIRED = `${UNCHARGE}
local out = {}
local cutoff = tonumber(ARGV[3])
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then break end
  if cjson.decode(head).sentAt > cutoff then break end
  redis.call('LPOP', KEYS[1])
  uncharge(head)
  table.insert(out, head)
end
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[4], ARGV[2]) end
return out
`;

const REQUEUE = `
for i = #ARGV, 4, -1 do
  redis.call('LPUSH', KEYS[1], ARGV[i])
  local e = cjson.decode(ARGV[i])
  local c = e.bytes + tonumber(ARGV[1])
  redis.call('HINCRBY', KEYS[2], e.clientId .. ':n', 1)
  redis.call('HINCRBY', KEYS[2], e.clientId .. ':b', c)
  redis.call('INCRBY', KEYS[3], c)
end
redis.call('SADD', KEYS[4], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/** The entry as stored: everything but this process's clock. */
function encode(e: WaitEntry): string {
  const { receivedAt: _, ...rest } = e;
  return JSON.stringify(rest);
}

export class RedisWaitQueues implements WaitQueueStore {
  private listener: (entry: WaitEntry) => void = () => undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    private readonly limit: number,
    private readonly maxAgeMs: number,
    private readonly bytes: { budget: number; perClient: number },
    private readonly onError: (err: unknown) => void,
    /** CLUSTER_REFS_LIMIT: the most resend references kept for all queues (the oldest go first). */
    private readonly refsLimit: number,
  ) {}

  private keysOf(name: string): string[] {
    return [this.keys.queue(name), this.keys.queueClients, this.keys.queueBytes, this.keys.queueNames];
  }

  /**
   * Queue at the tail. A resend of a client frame queued before (its accepted lost with a dying
   * broker) is answered 'ok' and not queued twice (§8: clientId + the frame's id, for the wait's
   * length).
   */
  async offer(entry: WaitEntry, fresh = true): Promise<OfferResult> {
    if (this.limit === 0 || this.maxAgeMs === 0) return 'full';
    return this.redis.eval<OfferResult>(OFFER, [...this.keysOf(entry.agent), this.keys.queueRefs], [
      encode(entry),
      entry.clientId,
      String(entry.bytes + ENTRY_OVERHEAD_BYTES),
      String(this.limit),
      String(this.bytes.perClient),
      String(this.bytes.budget),
      entry.agent,
      String(this.maxAgeMs + 60_000),
      fresh ? refKey(entry) : '',
      String(Date.now()),
      String(generationOf(this.refsLimit)),
    ]);
  }

  async requeueFront(name: string, entries: WaitEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.redis.eval(REQUEUE, this.keysOf(name), [String(ENTRY_OVERHEAD_BYTES), name, String(this.maxAgeMs + 60_000), ...entries.map(encode)]);
    // The count bound holds for put-backs too: the newest beyond it are answered agent_unavailable.
    const len = await this.redis.cmd<number>(['LLEN', this.keys.queue(name)]);
    if (len > this.limit) {
      const all = await this.take(name);
      const keep = all.slice(0, this.limit);
      await this.requeueFront(name, keep);
      for (const e of all.slice(this.limit)) this.listener(e);
    }
  }

  async take(name: string): Promise<WaitEntry[]> {
    const all = await this.redis.eval<string[]>(TAKE, this.keysOf(name), [String(ENTRY_OVERHEAD_BYTES), name]);
    return all.map((j) => JSON.parse(j) as WaitEntry);
  }

  onRejected(listener: (entry: WaitEntry) => void): void {
    this.listener = listener;
  }

  async depths(): Promise<Map<string, number>> {
    const names = await this.redis.cmd<string[]>(['SMEMBERS', this.keys.queueNames]);
    const lens = await Promise.all(names.map((n) => this.redis.cmd<number>(['LLEN', this.keys.queue(n)])));
    return new Map(names.map((n, i) => [n, lens[i]!]));
  }

  async heldBytes(): Promise<number> {
    return Number((await this.redis.cmd<string | null>(['GET', this.keys.queueBytes])) ?? 0);
  }

  /** Pop what waited SESSION_TTL_MS from every queue's head (each broker, each second). */
  async sweep(now = Date.now()): Promise<void> {
    const names = await this.redis.cmd<string[]>(['SMEMBERS', this.keys.queueNames]);
    for (const name of names) {
      const gone = await this.redis.eval<string[]>(EXPIRED, this.keysOf(name), [String(ENTRY_OVERHEAD_BYTES), name, String(now - this.maxAgeMs)]);
      for (const j of gone) this.listener(JSON.parse(j) as WaitEntry);
    }
  }

  start(): void {
    // Each second (sooner for a short SESSION_TTL_MS): a wait ends at most this late.
    this.timer = setInterval(() => void this.sweep().catch(this.onError), Math.max(20, Math.min(1000, this.maxAgeMs / 2)));
    this.timer.unref();
  }

  /** Shutdown of this broker: stop sweeping; the queues are the cluster's and stay. */
  clear(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
