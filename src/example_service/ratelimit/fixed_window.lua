-- Fixed window, atomically: the same arithmetic as MemoryBackend._fixed.
-- KEYS[1] = the key's hash {i = window index, c = count}
-- ARGV = now_ms, window_ms, capacity, cost   (time comes from the caller's clock)
-- Returns {allowed, limit, remaining, reset_epoch_s, retry_after_s, reset_after_s}
local now = tonumber(ARGV[1])
local w = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
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
redis.call('HSET', KEYS[1], 'i', idx, 'c', count)
-- Relative expiry: the caller's clock need not match the server's.
redis.call('PEXPIRE', KEYS[1], reset - now)
return {1, cap, cap - count, math.ceil(reset / 1000), 0, after}
