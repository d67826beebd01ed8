/**
 * Session records in Redis (PROTOCOL §10), one hash per session under its `{clientId}` tag, with
 * the indexes beside them (every session by creation, the detached ones by expiry, counts per IP).
 * Claiming a session for this broker, detaching it (fenced by the claim's generation) and
 * expiring it are each one script on the session's keys, so two brokers can never both hold a
 * session or both announce its expiry. A detached session's keys carry a TTL (its expiry plus a
 * grace); an attached one's owner is alive, or the sweeper of another broker detaches it.
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import type { Attachment, QuotaRefusal, SessionBounds, SessionRecord, SessionStore } from '../session-store.ts';
import { pairs } from './agent-directory-redis.ts';
import type { Keys } from './keys.ts';

/** How long a detached session's keys outlive its expiry (the sweeper removes them first). */
export const GRACE_MS = 60_000;

const CLAIM = `
local existed = redis.call('EXISTS', KEYS[1])
if existed == 0 then
  redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'address', ARGV[5], 'ip', ARGV[2], 'createdAt', ARGV[3])
end
local prev = redis.call('HGET', KEYS[1], 'owner') or ''
local gen = redis.call('HINCRBY', KEYS[1], 'gen', 1)
redis.call('HSET', KEYS[1], 'owner', ARGV[4], 'expiresAt', '')
for i = 1, #KEYS do redis.call('PERSIST', KEYS[i]) end
return {existed, gen, prev, redis.call('HGETALL', KEYS[1])}
`;

const UPDATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if ARGV[1] == '1' then redis.call('HSET', KEYS[1], 'address', ARGV[2]) end
if ARGV[3] ~= '' then
  local owner = redis.call('HGET', KEYS[1], 'owner') or ''
  local gen = redis.call('HGET', KEYS[1], 'gen') or ''
  if owner ~= ARGV[4] or gen ~= ARGV[5] then return false end
  redis.call('HSET', KEYS[1], 'owner', '', 'expiresAt', ARGV[3])
  for i = 1, #KEYS do
    if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[6]) end
  end
end
return redis.call('HGETALL', KEYS[1])
`;

/** A socket of this broker holds the session again: claim it (the fence moves on). */
const REATTACH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if ARGV[1] == '1' then redis.call('HSET', KEYS[1], 'address', ARGV[2]) end
local gen = redis.call('HINCRBY', KEYS[1], 'gen', 1)
redis.call('HSET', KEYS[1], 'owner', ARGV[3], 'expiresAt', '')
for i = 1, #KEYS do redis.call('PERSIST', KEYS[i]) end
return {gen, redis.call('HGETALL', KEYS[1])}
`;

const ORPHAN = `
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner or owner ~= ARGV[1] then return false end
redis.call('HSET', KEYS[1], 'owner', '', 'expiresAt', ARGV[2])
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
end
return redis.call('HGETALL', KEYS[1])
`;

const EXPIRE = `
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner then return 0 end
local exp = redis.call('HGET', KEYS[1], 'expiresAt') or ''
if owner ~= '' or exp == '' or tonumber(exp) > tonumber(ARGV[1]) then return 1 end
local rec = redis.call('HGETALL', KEYS[1])
redis.call('DEL', unpack(KEYS))
return rec
`;

function parse(clientId: string, flat: string[] | Record<string, string> | null | undefined): SessionRecord | undefined {
  const h: Record<string, string> = Object.fromEntries(pairs(flat));
  if (h.createdAt === undefined) return undefined;
  return {
    clientId,
    epoch: h.epoch ?? '',
    address: h.address ? h.address : null,
    ip: h.ip ? h.ip : undefined,
    createdAt: Number(h.createdAt),
    expiresAt: h.expiresAt ? Number(h.expiresAt) : null,
    owner: h.owner ? h.owner : undefined,
  };
}

export class RedisSessionStore implements SessionStore {
  /** The generation of this broker's latest claim per session (the fence of its detach). */
  private readonly gens = new Map<string, string>();

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    private readonly nodeId: string,
    private readonly bounds: SessionBounds,
  ) {}

  async get(clientId: string): Promise<SessionRecord | undefined> {
    return parse(clientId, await this.redis.cmd<string[]>(['HGETALL', this.keys.session(clientId)]));
  }

  async refusal(clientId: string, ip: string | undefined): Promise<QuotaRefusal | undefined> {
    const [exists, count, perIp] = await Promise.all([
      this.redis.cmd<number>(['EXISTS', this.keys.session(clientId)]),
      this.redis.cmd<number>(['ZCARD', this.keys.sessions]),
      ip === undefined ? Promise.resolve(null) : this.redis.cmd<string | null>(['HGET', this.keys.ips, ip]),
    ]);
    if (exists === 1) return undefined;
    if (count >= this.bounds.maxSessions) return 'sessions';
    if (ip !== undefined && Number(perIp ?? 0) >= this.bounds.maxPerIp) return 'sessions_per_ip';
    return undefined;
  }

  async getOrCreate(record: SessionRecord): Promise<Attachment> {
    const { clientId } = record;
    const [existed, gen, prev, flat] = await this.redis.eval<[number, number, string, string[]]>(CLAIM, this.keys.sessionKeys(clientId), [
      record.epoch,
      record.ip ?? '',
      String(record.createdAt),
      this.nodeId,
      record.address ?? '',
    ]);
    this.gens.set(clientId, String(gen));
    const created = existed === 0;
    await Promise.all([
      created ? this.redis.cmd(['ZADD', this.keys.sessions, String(record.createdAt), clientId]) : undefined,
      created && record.ip !== undefined ? this.redis.cmd(['HINCRBY', this.keys.ips, record.ip, '1']) : undefined,
      this.redis.cmd(['ZREM', this.keys.expiry, clientId]),
    ]);
    return {
      record: parse(clientId, flat) ?? { ...record },
      created,
      takenFrom: prev !== '' && prev !== this.nodeId ? prev : undefined,
    };
  }

  async update(clientId: string, patch: Partial<Pick<SessionRecord, 'address' | 'expiresAt'>>): Promise<SessionRecord | undefined> {
    if (patch.expiresAt === null) {
      const answer = await this.redis.eval<[number, string[]] | null>(REATTACH, this.keys.sessionKeys(clientId), [
        patch.address !== undefined ? '1' : '0',
        patch.address ?? '',
        this.nodeId,
      ]);
      if (!answer) return undefined;
      this.gens.set(clientId, String(answer[0]));
      await this.redis.cmd(['ZREM', this.keys.expiry, clientId]);
      return parse(clientId, answer[1]);
    }
    const detachAt = typeof patch.expiresAt === 'number' ? patch.expiresAt : undefined;
    const ttl = detachAt === undefined ? 0 : Math.max(1, detachAt - Date.now()) + GRACE_MS;
    const flat = await this.redis.eval<string[] | null>(UPDATE, this.keys.sessionKeys(clientId), [
      patch.address !== undefined ? '1' : '0',
      patch.address ?? '',
      detachAt === undefined ? '' : String(detachAt),
      this.nodeId,
      this.gens.get(clientId) ?? '',
      String(ttl),
    ]);
    const rec = parse(clientId, flat);
    if (rec && detachAt !== undefined) {
      this.gens.delete(clientId);
      await this.redis.cmd(['ZADD', this.keys.expiry, String(detachAt), clientId]);
    }
    return rec;
  }

  async expire(clientId: string, deadline: number): Promise<SessionRecord | undefined> {
    const answer = await this.redis.eval<number | string[]>(EXPIRE, this.keys.sessionKeys(clientId), [String(deadline)]);
    if (answer === 1) return undefined; // not detached or not due
    await Promise.all([this.redis.cmd(['ZREM', this.keys.expiry, clientId]), this.redis.cmd(['ZREM', this.keys.sessions, clientId])]);
    if (answer === 0) return undefined; // its keys had already gone (TTL): only the indexes were left
    const rec = parse(clientId, answer as string[]);
    if (rec?.ip !== undefined) await this.redis.cmd(['HINCRBY', this.keys.ips, rec.ip, '-1']);
    return rec;
  }

  async due(now: number, limit: number): Promise<string[]> {
    return this.redis.cmd<string[]>(['ZRANGEBYSCORE', this.keys.expiry, '-inf', String(now), 'LIMIT', '0', String(limit)]);
  }

  async orphan(clientId: string, node: string, expiresAt: number): Promise<SessionRecord | undefined> {
    const ttl = Math.max(1, expiresAt - Date.now()) + GRACE_MS;
    const rec = parse(clientId, await this.redis.eval<string[] | null>(ORPHAN, this.keys.sessionKeys(clientId), [node, String(expiresAt), String(ttl)]));
    if (rec) await this.redis.cmd(['ZADD', this.keys.expiry, String(expiresAt), clientId]);
    return rec;
  }

  async ids(): Promise<string[]> {
    return this.redis.cmd<string[]>(['ZRANGE', this.keys.sessions, '0', '-1']);
  }

  async list(): Promise<SessionRecord[]> {
    const ids = await this.ids();
    const recs = await Promise.all(ids.map((id) => this.get(id)));
    return recs.filter((r): r is SessionRecord => r !== undefined);
  }

  async size(): Promise<number> {
    return this.redis.cmd<number>(['ZCARD', this.keys.sessions]);
  }
}
