-- Fixed window, atomically: the same arithmetic as MemoryBackend._fixed.
-- KEYS[1] = the key's hash {i = window index, c = count}
-- ARGV = window_ms, capacity, cost (negative: a refund)
-- `now` (ms) comes from the clock prelude the backend puts first (redis_time.lua).
-- Returns {allowed, limit, remaining, reset_epoch_s, retry_after_s, reset_after_s}
local w = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local idx = math.floor(now / w)
local reset = (idx + 1) * w
local after = math.ceil((reset - now) / 1000)
local state = redis.call('HMGET', KEYS[1], 'i', 'c')
local count = 0
if tonumber(state[1]) == idx then
  count = tonumber(state[2])
end
if count + cost > cap then
  return {0, cap, math.max(0, cap - count), math.ceil(reset / 1000), after, after}
end
count = count + cost
-- A refund (negative cost) after the window rolled over: never below zero.
if count < 0 then count = 0 end
redis.call('HSET', KEYS[1], 'i', idx, 'c', count)
redis.call('PEXPIRE', KEYS[1], reset - now)
return {1, cap, cap - count, math.ceil(reset / 1000), 0, after}
