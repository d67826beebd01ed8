/**
 * Lua shared by the cluster's scripts. `seen(key, ids)`: which of `ids` the sorted set `key`
 * already holds, as a table id → true, in one ZMSCORE however many there are (a batch of a
 * client's frames, or of a session's appends, asks once).
 */
export const SEEN_LUA = `
local function seen(key, ids)
  local known = {}
  if #ids > 0 then
    local found = redis.call('ZMSCORE', key, unpack(ids))
    for k = 1, #ids do if found[k] then known[ids[k]] = true end end
  end
  return known
end
`;
