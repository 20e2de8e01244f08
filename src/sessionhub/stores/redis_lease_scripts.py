"""The Lua scripts of ``RedisLeases``, each one atomic decision (see that module's docstring
for the keys they use), and the constants they share with it."""

from __future__ import annotations

from sessionhub.core.end_reasons import EVICTED, EXPIRED, REPLACED

# How long the note of an end stays in Redis: long enough for the keep-alives still in flight
# (sent every timeout/2) and for the ends stream to reach the database, which normally takes
# seconds. Past it the database answers; if it has not caught up (a long outage), a late
# keep-alive hears "expired" rather than the exact reason. Memory: the ends of the last ten
# minutes, about 200 bytes each (100 ends a second: ~12 MB), where a day cost ~1.8 GB.
ENDED_KEPT_MS = 600_000
GROUP = "writers"
STALE_MS = 30_000  # an entry read this long ago by an instance and not written: take it over
NOT_READY = -1

# Shared by every script. ARGV[1]: key prefix, ARGV[2]: ENDED_KEPT_MS.
PRELUDE = f"""
local P, KEPT = ARGV[1], ARGV[2]
local function finish(sid, reason, at)
  local key = P .. 's:' .. sid
  local account = redis.call('HGET', key, 'a') or ''
  redis.call('DEL', key)
  redis.call('ZREM', P .. 'a:' .. account, sid)
  redis.call('ZREM', P .. 'leases', sid)
  redis.call('SET', P .. 'e:' .. sid, account .. '\\n' .. reason .. '\\n' .. at, 'PX', KEPT)
  redis.call('XADD', P .. 'ends', '*', 's', sid, 'r', reason, 't', at)
end
-- {{2, reason, at}} for a session that ended here; {{3}} if another account's; {{0}} unknown
local function ended_status(sid, account)
  local e = redis.call('GET', P .. 'e:' .. sid)
  if not e then return {{0}} end
  local owner, reason, at = string.match(e, '^(.-)\\n(.-)\\n(.*)$')
  if account ~= '' and owner ~= account then return {{3}} end
  return {{2, reason, at}}
end
-- The live session ``sid`` if ``account`` ('' for an operator) may touch it: nil, its account
-- and lease length. Else the answer to give: as ``ended_status``, or {{2, 'expired', at}}
-- for a lease that lapsed (ended here and now, at its expiry).
local function touch(sid, account, now)
  local info = redis.call('HMGET', P .. 's:' .. sid, 'a', 'm')
  if not info[1] then return ended_status(sid, account) end
  if account ~= '' and info[1] ~= account then return {{3}} end
  local lease = tonumber(info[2])
  local expiry = redis.call('ZSCORE', P .. 'a:' .. info[1], sid)
  if lease > 0 and tonumber(expiry) <= now then
    finish(sid, '{EXPIRED}', expiry)
    return {{2, '{EXPIRED}', expiry}}
  end
  return nil, info[1], lease
end
if redis.call('EXISTS', P .. 'ready') == 0 then return {{{NOT_READY}}} end
"""

# ARGV: 3 now, 4 sid, 5 account, 6 device, 7 content, 8 started_at, 9 lease ms, 10 limit,
# 11 policy. The rule is ``sessionhub.core.admission.decide``; the contract suite holds the two
# equal. Returns {1, ended sid, reason, ...} or {0, sid, device, content, started_at, ...}.
ADMIT = (
    PRELUDE
    + f"""
local now, sid, account, device = tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6]
local live = P .. 'a:' .. account
local ended, others = {{}}, {{}}
-- Lapsed leases do not count; the sweep ends them at their expiry.
for _, other in ipairs(redis.call('ZRANGEBYSCORE', live, '(' .. ARGV[3], '+inf')) do
  local info = redis.call('HMGET', P .. 's:' .. other, 'd', 'c', 't')
  if info[1] == device then
    table.insert(ended, {{other, '{REPLACED}'}})
  else
    table.insert(others, {{other, info[1], info[2], info[3], tonumber(info[3])}})
  end
end
table.sort(others, function(x, y)
  if x[5] ~= y[5] then return x[5] < y[5] end
  return x[1] < y[1]
end)
local limit = tonumber(ARGV[10])
if #others >= limit then
  if ARGV[11] == 'deny' or limit == 0 then
    local conflicts = {{0}}
    for _, o in ipairs(others) do
      for j = 1, 4 do table.insert(conflicts, o[j]) end
    end
    return conflicts
  end
  for i = 1, #others - limit + 1 do table.insert(ended, {{others[i][1], '{EVICTED}'}}) end
end
local result = {{1}}
for _, e in ipairs(ended) do
  finish(e[1], e[2], ARGV[3])
  table.insert(result, e[1])
  table.insert(result, e[2])
end
local lease = tonumber(ARGV[9])
redis.call('HSET', P .. 's:' .. sid, 'a', account, 'd', device, 'c', ARGV[7], 't', ARGV[8],
  'm', ARGV[9])
if lease > 0 then
  redis.call('ZADD', live, now + lease, sid)
  redis.call('ZADD', P .. 'leases', now + lease, sid)
else
  redis.call('ZADD', live, '+inf', sid)
end
return result
"""
)

# ARGV: 3 sid, 4 account ('' for an operator), 5 now. Answers 1 (live) or as ``touch``.
# Restarts the lease.
RENEW = (
    PRELUDE
    + """
local sid, now = ARGV[3], tonumber(ARGV[5])
local answer, account, lease = touch(sid, ARGV[4], now)
if answer then return answer end
if lease > 0 then
  redis.call('ZADD', P .. 'a:' .. account, now + lease, sid)
  redis.call('ZADD', P .. 'leases', now + lease, sid)
end
return {1}
"""
)

# As RENEW, plus 6 reason. Ends the session now; 4: this call ended it (at now).
END = (
    PRELUDE
    + """
local answer = touch(ARGV[3], ARGV[4], tonumber(ARGV[5]))
if answer then return answer end
finish(ARGV[3], ARGV[6], ARGV[5])
return {4, ARGV[6], ARGV[5]}
"""
)

# ARGV: 3 now, 4 at most this many. Pops due leases; returns how many ended.
SWEEP = (
    PRELUDE
    + f"""
local due = redis.call('ZRANGEBYSCORE', P .. 'leases', '-inf', ARGV[3], 'WITHSCORES',
  'LIMIT', 0, ARGV[4])
for i = 1, #due, 2 do finish(due[i], '{EXPIRED}', due[i + 1]) end
return {{#due / 2}}
"""
)

# ARGV: 3.. (sid, account) pairs. For each: {1, expiry} if live ('inf': never expires), else
# as ``ended_status``.
LOOK = (
    PRELUDE
    + """
local out = {}
for i = 3, #ARGV, 2 do
  local sid = ARGV[i]
  local expiry = redis.call('ZSCORE', P .. 'a:' .. ARGV[i + 1], sid)
  if expiry then
    table.insert(out, {1, expiry})
  else
    table.insert(out, ended_status(sid, ''))
  end
end
return out
"""
)

# A streaming server's check, changing nothing (a lapsed lease is left to the sweep). ARGV: 3
# now, 4 sid. {1, account, device, content, expiry} while live; else as ``ended_status``, or
# {2, 'expired', expiry} for a lease that lapsed.
CHECK = (
    PRELUDE
    + f"""
local sid = ARGV[4]
local info = redis.call('HMGET', P .. 's:' .. sid, 'a', 'd', 'c', 'm')
if not info[1] then return ended_status(sid, '') end
local expiry = redis.call('ZSCORE', P .. 'a:' .. info[1], sid)
if tonumber(info[4]) > 0 and tonumber(expiry) <= tonumber(ARGV[3]) then
  return {{2, '{EXPIRED}', expiry}}
end
return {{1, info[1], info[2], info[3], expiry}}
"""
)

# Undo an admission whose record could not be written: the session never existed.
FORGET = (
    PRELUDE
    + """
local sid = ARGV[3]
local account = redis.call('HGET', P .. 's:' .. sid, 'a')
if account then
  redis.call('DEL', P .. 's:' .. sid)
  redis.call('ZREM', P .. 'a:' .. account, sid)
  redis.call('ZREM', P .. 'leases', sid)
end
return {1}
"""
)

# Loading (no readiness check: it is what makes Redis ready). ARGV: 3.. groups of 6 fields:
# sid, account, device, content, started_at, lease ms, expiry ('+inf' for none).
RESTORE = """
local P = ARGV[1]
for i = 2, #ARGV, 7 do
  local sid, account, expiry = ARGV[i], ARGV[i + 1], ARGV[i + 6]
  redis.call('HSET', P .. 's:' .. sid, 'a', account, 'd', ARGV[i + 2], 'c', ARGV[i + 3],
    't', ARGV[i + 4], 'm', ARGV[i + 5])
  redis.call('ZADD', P .. 'a:' .. account, 'NX', expiry, sid)
  if expiry ~= '+inf' then redis.call('ZADD', P .. 'leases', 'NX', expiry, sid) end
end
return #ARGV
"""
