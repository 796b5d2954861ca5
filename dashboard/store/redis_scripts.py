"""The Lua scripts of the Redis store (``dashboard.store.redis_store``), one per atomic write.

Each touches one family's slot and only the keys it is given in KEYS (see the key layout in
``redis_store``'s docstring): the store passes them, the scripts never build a key.
"""

LUA_LIB = r"""
local function add_point(key, b, member, max_points, max_age)
  -- last write of a bucket wins: drop whatever the bucket held, then add
  redis.call('ZREMRANGEBYSCORE', key, b, b)
  redis.call('ZADD', key, b, member)
  -- bound by age, relative to the newest point (not the one just written)
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  local horizon = tonumber(newest[2]) - max_age
  if horizon < 0 then horizon = 0 end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. string.format('%.17g', horizon))
  -- bound by count, oldest first
  local excess = redis.call('ZCARD', key) - max_points
  if excess > 0 then redis.call('ZREMRANGEBYRANK', key, 0, excess - 1) end
end

-- the family's counter, the kind's counter, and the announcement "<family> <version>",
-- followed by " urgent" for an urgent change (see ChangeListener)
local function bump(version, kinds, channel, family, kind, urgent)
  local v = redis.call('INCR', version)
  redis.call('HINCRBY', kinds, kind, 1)
  redis.call('PUBLISH', channel, family .. ' ' .. v .. (urgent and ' urgent' or ''))
  return v
end

-- a read model's row (see IndexRow) in its four keys from KEYS[at]: meta is
-- "key\31tag\31tag..." or '' to remove the id
local function apply_row(at, id, meta, doc)
  local z, r, m, c = KEYS[at], KEYS[at + 1], KEYS[at + 2], KEYS[at + 3]
  local old = redis.call('HGET', m, id)
  if old then
    local first = true
    for part in string.gmatch(old, '[^\31]+') do
      if first then
        redis.call('ZREM', z, part)
        redis.call('HDEL', r, part)
        first = false
      elseif redis.call('HINCRBY', c, part, -1) <= 0 then
        redis.call('HDEL', c, part)
      end
    end
  end
  if meta == '' then
    redis.call('HDEL', m, id)
    return
  end
  local first = true
  for part in string.gmatch(meta, '[^\31]+') do
    if first then
      redis.call('ZADD', z, 0, part)
      redis.call('HSET', r, part, doc)
      first = false
    else
      redis.call('HINCRBY', c, part, 1)
    end
  end
  redis.call('HSET', m, id, meta)
end

-- n rows: their keys four each from KEYS[key_at], their id, meta and doc three each from ARGV[arg_at]
local function apply_rows(key_at, arg_at, n)
  for i = 0, n - 1 do
    local j = arg_at + 3 * i
    apply_row(key_at + 4 * i, ARGV[j], ARGV[j + 1], ARGV[j + 2])
  end
end

-- a ticker line behind its order stamp: server microseconds, but never below the family's
-- last stamp + 1, so one family's lines keep their order even if the clock steps back
local function tick(list, clock, now, line, keep_text)
  local keep = tonumber(keep_text)
  local stamp = tonumber(now[1]) * 1000000 + tonumber(now[2])
  local last = tonumber(redis.call('HGET', clock, 'last') or '0')
  if stamp <= last then stamp = last + 1 end
  local text = string.format('%d', stamp)
  redis.call('HSET', clock, 'last', text, 'keep', keep_text)
  redis.call('LPUSH', list, text .. '|' .. line)
  if keep > 0 then redis.call('LTRIM', list, 0, keep - 1) else redis.call('DEL', list) end
end
"""

# KEYS: idx, ent, seen, version, kinds, ticker, ticker clock, rows (4 each)[, series]
# ARGV: kind, id, observed_at, doc, channel, family, has_recent, recent, recent_keep, cap (-1: none),
#       number of rows, rows (3 each: id, meta, doc) [, bucket, member, max_points, max_age],
#       urgent ('1' or '0', always the last)
UPSERT_LUA = (
    LUA_LIB
    + r"""
local stored = redis.call('ZSCORE', KEYS[1], ARGV[2])
if stored then
  local was, at = tonumber(stored), tonumber(ARGV[3])
  if was > at or (was == at and redis.call('HGET', KEYS[2], ARGV[2]) == ARGV[4]) then return 0 end
end
local cap = tonumber(ARGV[10])
if not stored and cap >= 0 and redis.call('ZCARD', KEYS[1]) >= cap then return -1 end
local now = redis.call('TIME')
redis.call('HSET', KEYS[3], ARGV[1], now[1] .. '.' .. string.format('%06d', tonumber(now[2])))
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
local nrows = tonumber(ARGV[11])
apply_rows(8, 12, nrows)
local series = 8 + 4 * nrows
if KEYS[series] then
  local s = 12 + 3 * nrows
  add_point(KEYS[series], ARGV[s], ARGV[s + 1], tonumber(ARGV[s + 2]), tonumber(ARGV[s + 3]))
end
if ARGV[7] == '1' then tick(KEYS[6], KEYS[7], now, ARGV[8], ARGV[9]) end
bump(KEYS[4], KEYS[5], ARGV[5], ARGV[6], ARGV[1], ARGV[#ARGV] == '1')
return 1
"""
)

# KEYS: series; ARGV: bucket, member, max_points, max_age
ADD_POINT_LUA = (
    LUA_LIB
    + r"""
add_point(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
return 1
"""
)

# KEYS: idx, ent, version, kinds, indexes (4 keys each), the series of each id (one each)
# ARGV: channel, family, kind, number of indexes, id...
DELETE_LUA = (
    LUA_LIB
    + r"""
local nidx = tonumber(ARGV[4])
local series = 5 + 4 * nidx
local gone = 0
for i = 5, #ARGV do
  local id = ARGV[i]
  gone = gone + redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
  redis.call('DEL', KEYS[series + i - 5])
  for j = 0, nidx - 1 do apply_row(5 + 4 * j, id, '', '') end
end
if gone > 0 then bump(KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3]) end
return gone
"""
)

# KEYS: idx, ent, version, kinds, the series of each candidate (one each)
# ARGV: channel, family, kind, keep, candidate id...
# The candidates are the oldest ids as the caller read them; if the oldest are now others (a
# peer wrote in between), nothing is done and -1 asks the caller to read again, so no series
# key is ever named inside the script.
TRIM_LUA = (
    LUA_LIB
    + r"""
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if excess <= 0 then return 0 end
local at = {}
for i = 5, #ARGV do at[ARGV[i]] = i - 5 end
local ids = redis.call('ZRANGE', KEYS[1], 0, excess - 1)
for _, id in ipairs(ids) do
  if at[id] == nil then return -1 end
end
local gone = 0
for _, id in ipairs(ids) do
  gone = gone + redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
  redis.call('DEL', KEYS[5 + at[id]])
end
if gone > 0 then bump(KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3]) end
return gone
"""
)

# KEYS: idx, ent, version, kinds, rows (4 each)
# ARGV: channel, family, id, expect ('' when absent), observed_at, doc, kind, number of rows, rows (3 each)
SWAP_LUA = (
    LUA_LIB
    + r"""
local stored = redis.call('ZSCORE', KEYS[1], ARGV[3])
if ARGV[4] == '' then
  if stored then return 0 end
elseif (not stored) or tonumber(stored) ~= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[6])
apply_rows(5, 9, tonumber(ARGV[8]))
bump(KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[7], true)  -- a person's action: urgent
return 1
"""
)

# KEYS: the named map; ARGV: key, the value it must still hold, the new value
MAP_REPLACE_LUA = r"""
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""
