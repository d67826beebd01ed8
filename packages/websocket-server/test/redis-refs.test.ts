/**
 * The §8 reference sets of cluster mode (store/redis/lua.ts): two generations of hashes, id → time.
 * Run as scripts on the real Redis, under a key prefix of this run: what is remembered, the count
 * bound (at least the newest `cap`, never more than twice it, batches larger than a generation
 * included), the age bound of a lookup, resends within one batch, and a set of the format before.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RedisAckRecords } from '../src/store/redis/ack-records-redis.ts';
import { Keys } from '../src/store/redis/keys.ts';
import { generationOf, REFS_LUA } from '../src/store/redis/lua.ts';
import { redisRun, refsHeld } from './redis-run.ts';

const { redis, run: prefix } = redisRun('abrefs');

/** ARGV: cap, now, oldest ('' for none), then ids. Remembers the ids not known yet; answers which were known. */
const TRY = `${REFS_LUA}
local oldest = ARGV[3] ~= '' and tonumber(ARGV[3]) or nil
local ids = {}
for i = 4, #ARGV do table.insert(ids, ARGV[i]) end
local known = seen(KEYS[1], ids, oldest)
local add, out = {}, {}
for i = 4, #ARGV do
  if first(known, add, ARGV[2], ARGV[i]) then table.insert(out, 0) else table.insert(out, 1) end
end
remember(KEYS[1], add, tonumber(ARGV[1]))
return out
`;

let n = 0;
const fresh = (): string => `${prefix}:{s${++n}}:refs`;
const offer = (key: string, cap: number, ids: string[], now = Date.now(), oldest = ''): Promise<number[]> =>
  redis.eval<number[]>(TRY, [key], [String(cap), String(now), oldest, ...ids]);
/** Waits until `key` holds `id` (a flush is sent without waiting for its answer). */
async function recorded(key: string, id: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while ((await redis.cmd<number>(['HEXISTS', key, id])) !== 1) {
    if (Date.now() > deadline) throw new Error(`${id} never recorded in ${key}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const held = (key: string): Promise<string[]> => refsHeld(redis, key);

describe('§8 reference sets in Redis (two generations)', () => {
  it('recognises an id it remembered, and a twin within one batch', async () => {
    const key = fresh();
    expect(await offer(key, 10, ['a', 'b', 'a'])).toEqual([0, 0, 1]);
    expect(await offer(key, 10, ['b', 'c'])).toEqual([1, 0]);
    expect(await held(key)).toEqual(['a', 'b', 'c']);
  });

  it('keeps at least the newest cap and at most twice cap, one at a time or in batches larger than a generation', async () => {
    for (const batch of [1, 3, 7, 25]) {
      const key = fresh();
      const cap = 5;
      const all = Array.from({ length: 40 }, (_, i) => `id-${String(i).padStart(2, '0')}`);
      for (let i = 0; i < all.length; i += batch) {
        await offer(key, cap, all.slice(i, i + batch));
        const kept = await held(key);
        const sent = all.slice(0, Math.min(i + batch, all.length));
        expect(kept.length).toBeLessThanOrEqual(2 * cap);
        // The newest cap sent so far are all still known.
        for (const id of sent.slice(-cap)) expect(kept).toContain(id);
      }
      // The oldest are forgotten: offered again, they count as new.
      expect(await offer(key, cap, ['id-00'])).toEqual([0]);
    }
  });

  it('ignores what was recorded before the lookup\'s oldest time', async () => {
    const key = fresh();
    await offer(key, 10, ['old'], 1_000);
    await offer(key, 10, ['new'], 5_000);
    expect(await offer(key, 10, ['old', 'new'], 6_000, '2000')).toEqual([0, 1]);
    // Without an age bound both are known.
    expect(await offer(key, 10, ['old', 'new'], 6_000)).toEqual([1, 1]);
  });

  it('drops a set left in the format before (a sorted set) instead of failing on it', async () => {
    const key = fresh();
    await redis.cmd(['ZADD', key, '1', 'z-1']);
    await redis.cmd(['ZADD', `${key}:old`, '1', 'z-0']);
    expect(await offer(key, 10, ['a', 'z-1'])).toEqual([0, 0]);
    expect(await redis.cmd(['TYPE', key])).toBe('hash');
    expect(await redis.cmd(['EXISTS', `${key}:old`])).toBe(0);
    expect(await offer(key, 10, ['a', 'z-1'])).toEqual([1, 1]);
  });

  it("gives a session's new id set the record's TTL (none while attached), and leaves an existing one's to the session store", async () => {
    const keys = new Keys(`${prefix}:ttl`);
    const acks = new RedisAckRecords(redis, keys);
    const record = randomUUID();
    const record2 = randomUUID();
    // Detached: the record has a TTL; the set made now takes it.
    await redis.cmd(['HSET', keys.session(record), 'owner', '']);
    await redis.cmd(['PEXPIRE', keys.session(record), '60000']);
    acks.acceptedFromClient(record, 'a');
    acks.pending.flushAll();
    await recorded(keys.clientIds(record), 'a');
    const ttl = await redis.cmd<number>(['PTTL', keys.clientIds(record)]);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // Attached: no TTL on the record, none on the set.
    await redis.cmd(['HSET', keys.session(record2), 'owner', 'b-1']);
    acks.acceptedFromClient(record2, 'a');
    acks.pending.flushAll();
    await recorded(keys.clientIds(record2), 'a');
    expect(await redis.cmd<number>(['PTTL', keys.clientIds(record2)])).toBe(-1);
    // An existing set keeps what it has (the session store's scripts set it with the record's).
    await redis.cmd(['PEXPIRE', keys.clientIds(record2), '90000']);
    acks.acceptedFromClient(record2, 'b');
    acks.pending.flushAll();
    await recorded(keys.clientIds(record2), 'b');
    expect(await redis.cmd<number>(['PTTL', keys.clientIds(record2)])).toBeGreaterThan(80_000);
    expect(await redis.cmd<string[]>(['HKEYS', keys.clientIds(record2)])).toEqual(['a', 'b']);
  });

  it('splits CLUSTER_REFS_LIMIT into two generations that together stay within it', () => {
    expect(generationOf(100_000)).toBe(50_000);
    expect(generationOf(3)).toBe(2);
    expect(generationOf(1)).toBe(1);
  });
});
