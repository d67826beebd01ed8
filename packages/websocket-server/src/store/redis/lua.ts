/**
 * Lua shared by the cluster's scripts about §8 references (sorted sets of ids by time).
 * `seen(key, ids)`: which of `ids` the set `key` already holds, as a table id → true, in one
 * ZMSCORE however many there are (a batch of a client's frames, or of a session's appends, asks
 * once); `lookup(key, ids, oldest)` the same after dropping the entries scored before `oldest`.
 * `first(known, pairs, score, id)`: false for an id already known (a resend, or its twin earlier in
 * the batch); else it becomes known, its (score, id) joins `pairs`, and true ('' is never known).
 * `remember(key, pairs, cap)`: adds the pairs and keeps the newest `cap`; false when there were none.
 */
export const REFS_LUA = `
local function seen(key, ids)
  local known = {}
  if #ids > 0 then
    local found = redis.call('ZMSCORE', key, unpack(ids))
    for k = 1, #ids do if found[k] then known[ids[k]] = true end end
  end
  return known
end
local function lookup(key, ids, oldest)
  if #ids == 0 then return {} end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', oldest)
  return seen(key, ids)
end
local function first(known, pairs, score, id)
  if id == '' then return true end
  if known[id] then return false end
  known[id] = true
  table.insert(pairs, score)
  table.insert(pairs, id)
  return true
end
local function remember(key, pairs, cap)
  if #pairs == 0 then return false end
  redis.call('ZADD', key, unpack(pairs))
  local over = redis.call('ZCARD', key) - cap
  if over > 0 then redis.call('ZREMRANGEBYRANK', key, 0, over - 1) end
  return true
end
`;
