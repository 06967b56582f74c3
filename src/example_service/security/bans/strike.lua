-- One strike against an address, and the ban it earns: the same arithmetic as MemoryBans.
-- KEYS[1] = the address's strike counter of this kind (hash {i = window index, c = count})
-- KEYS[2] = the address's level (hash {l = level, f = forgotten at}, `memory` after its ban ends)
-- KEYS[3] = the bans in force (sorted set: address -> banned until, ms on the server's clock)
-- ARGV = address, window_ms, threshold, memory_ms, durations (seconds, comma-separated)
-- `now` (ms) comes from the clock prelude. Returns {level, seconds, remaining_ms}:
-- {0, 0, 0} no ban; {0, 0, r} already banned, r ms left; {n, s, s * 1000} banned now.
local address = ARGV[1]
local w = tonumber(ARGV[2])
local threshold = tonumber(ARGV[3])
local banned = tonumber(redis.call('ZSCORE', KEYS[3], address) or '0')
if banned > now then
  return {0, 0, banned - now}
end
local idx = math.floor(now / w)
local state = redis.call('HMGET', KEYS[1], 'i', 'c')
local count = 1
if tonumber(state[1]) == idx then
  count = tonumber(state[2]) + 1
end
if count < threshold then
  redis.call('HSET', KEYS[1], 'i', idx, 'c', count)
  redis.call('PEXPIRE', KEYS[1], (idx + 1) * w - now)
  return {0, 0, 0}
end
redis.call('DEL', KEYS[1])
local durations = {}
for d in string.gmatch(ARGV[5], '%d+') do
  durations[#durations + 1] = tonumber(d)
end
local previous = redis.call('HMGET', KEYS[2], 'l', 'f')
local level = 0
if (tonumber(previous[2]) or 0) > now then
  level = tonumber(previous[1])
end
level = math.min(level + 1, #durations)
local ms = durations[level] * 1000
local keep = ms + tonumber(ARGV[4])
redis.call('HSET', KEYS[2], 'l', level, 'f', now + keep)
redis.call('PEXPIRE', KEYS[2], keep)
redis.call('ZADD', KEYS[3], now + ms, address)
return {level, durations[level], ms}
