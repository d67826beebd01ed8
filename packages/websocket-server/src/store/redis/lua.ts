/**
 * Lua shared by the cluster's scripts about §8 references (sorted sets of ids by time).
 * `seen(key, ids)`: which of `ids` the set `key` already holds, as a table id → true, in one
 * ZMSCORE however many there are (a batch of a client's frames, or of a session's appends, asks
 * once). `remember(key, pairs, cap)`: adds the (score, id) pairs and keeps the newest `cap`; false
 * when there was nothing to add.
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
local function remember(key, pairs, cap)
  if #pairs == 0 then return false end
  redis.call('ZADD', key, unpack(pairs))
  local over = redis.call('ZCARD', key) - cap
  if over > 0 then redis.call('ZREMRANGEBYRANK', key, 0, over - 1) end
  return true
end
`;
