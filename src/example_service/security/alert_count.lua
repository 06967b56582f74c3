-- One refusal counted towards the alerts, for every process at once.
-- KEYS[1] = this kind's counts in the current window (hash {w = window index, total = n,
--           c:<client> = n}); ARGV = client, window_ms
-- `now` (ms) comes from the clock prelude. Returns {client's count, total, window index}:
-- the process whose call brings a count to its threshold raises the alert, and only that one.
local w = tonumber(ARGV[2])
local idx = math.floor(now / w)
if tonumber(redis.call('HGET', KEYS[1], 'w')) ~= idx then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'w', idx)
  redis.call('PEXPIRE', KEYS[1], (idx + 1) * w - now)
end
local client = redis.call('HINCRBY', KEYS[1], 'c:' .. ARGV[1], 1)
local total = redis.call('HINCRBY', KEYS[1], 'total', 1)
return {client, total, idx}
