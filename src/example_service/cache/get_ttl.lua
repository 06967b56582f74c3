-- Each key's value and remaining time to live (ms; -1 none, -2 missing), read at one instant:
-- the two-level backend keeps a value in its near cache no longer than it lives here.
-- KEYS = the keys. Returns {value1, pttl1, value2, pttl2, ...} (a missing value is nil).
local out = {}
for i, key in ipairs(KEYS) do
  out[2 * i - 1] = redis.call('GET', key)
  out[2 * i] = redis.call('PTTL', key)
end
return out
