/**
 * Lua shared by the cluster's scripts about §8 references: sets of ids seen lately, each kept as
 * two generations of hashes, `key` (the current one) and `key:old`, id → the time it was recorded
 * (ms). A generation is full at a cap; the next add makes the current one the old one (the old
 * one goes) and starts a new one, so a set holds at least the newest `cap` ids and at most twice
 * that, and forgetting costs nothing per add (the old generation goes whole, UNLINKed).
 *
 * Why not one sorted set by time, as this was: every add then paid a ZADD into a skiplist (1.4 µs
 * at 100,000 entries against 0.6 for HSET into a hash), a ZREMRANGEBYSCORE for the age bound and a
 * ZCARD for the count bound, three times per echo round trip (the client's ids, the hold's refs, the
 * agent frame ids): most of what §8 cost Redis (docs/performance.md). The age bound is kept by the
 * lookup instead, which ignores an id recorded before `oldest`.
 *
 * `seen(key, ids, oldest)`: which of `ids` either generation holds (recorded at or after `oldest`;
 * nil: whenever), as a table id → true; two HMGETs however many ids (a batch of a client's frames,
 * or of a session's appends, asks once). `first(known, pairs, now, id)`: false for an id already
 * known (a resend, or its twin earlier in the batch); else it becomes known, (id, now) joins
 * `pairs`, and true ('' is never known). `remember(key, pairs, cap)`: adds the (id, time) pairs to
 * the current generation, turning a full one (`cap` ids) into the old one first; false when there
 * were none, and as a second value whether the current generation is a new key (it has no TTL).
 * The caller gives the current generation its TTL; the old one keeps the TTL it had (RENAME moves
 * it along).
 */

/** The old generation's key is the set's key with this after it. */
const OLD = ':old';

/** The old generation's key beside a set's key (REFS_LUA). */
export const oldGeneration = (key: string): string => `${key}${OLD}`;

/** Lua: the old generation's key beside `key` (a Lua expression). */
export const oldGenerationLua = (key: string): string => `${key} .. '${OLD}'`;

export const REFS_LUA = `
-- A key of another type holds a set in the format before these (a sorted set, until 2026-11-26:
-- a bridge upgraded in place): it is dropped, not an error for every frame of its session or name.
local function hash(reply, key)
  if type(reply) == 'table' and reply.err then
    redis.call('UNLINK', key)
    return nil
  end
  return reply
end
local function seen(key, ids, oldest)
  local known = {}
  if #ids > 0 then
    local now = hash(redis.pcall('HMGET', key, unpack(ids)), key) or {}
    local old = hash(redis.pcall('HMGET', ${oldGenerationLua('key')}, unpack(ids)), ${oldGenerationLua('key')}) or {}
    for k = 1, #ids do
      local t = now[k] or old[k]
      if t and (not oldest or tonumber(t) >= oldest) then known[ids[k]] = true end
    end
  end
  return known
end
local function first(known, pairs, now, id)
  if id == '' then return true end
  if known[id] then return false end
  known[id] = true
  table.insert(pairs, id)
  table.insert(pairs, now)
  return true
end
local function remember(key, pairs, cap)
  if #pairs == 0 then return false, false end
  local n = hash(redis.pcall('HLEN', key), key) or 0
  local created = n == 0
  local i = 1
  -- A batch larger than what the current generation has room for fills it, turns it old, goes on.
  while i <= #pairs do
    if n >= cap then
      -- UNLINK first: a big old generation is freed off Redis's main thread, not by RENAME.
      redis.call('UNLINK', ${oldGenerationLua('key')})
      redis.call('RENAME', key, ${oldGenerationLua('key')})
      n = 0
      created = true
    end
    local j = math.min(#pairs, i + 2 * (cap - n) - 1)
    n = n + redis.call('HSET', key, unpack(pairs, i, j))
    i = j + 1
  end
  return true, created
end
`;

/** The generation size for a set bounded at `limit` in all (CLUSTER_REFS_LIMIT): two generations fit. */
export const generationOf = (limit: number): number => Math.max(1, Math.ceil(limit / 2));
