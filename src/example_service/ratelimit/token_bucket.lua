-- Token bucket as GCRA, atomically: the same arithmetic as MemoryBackend._gcra.
-- KEYS[1] = the key's theoretical arrival time (ms)
-- ARGV = window_ms, limit, capacity, cost
-- `now` (ms) comes from the clock prelude the backend puts first (redis_time.lua).
-- Returns {allowed, limit, remaining, reset_epoch_s, retry_after_s, reset_after_s}
local t = tonumber(ARGV[1]) / tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local tat = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now)
local new_tat = tat + t * cost
local allow_at = new_tat - t * cap
if now < allow_at then
  local remaining = math.floor((now - (tat - t * cap)) / t)
  return {0, cap, math.max(0, remaining), math.ceil(tat / 1000),
          math.max(1, math.ceil((allow_at - now) / 1000)), math.ceil((tat - now) / 1000)}
end
redis.call('SET', KEYS[1], string.format('%.17g', new_tat), 'PX', math.max(1, math.ceil(new_tat - now)))
return {1, cap, math.floor((now - allow_at) / t), math.ceil(new_tat / 1000), 0,
        math.ceil((new_tat - now) / 1000)}
