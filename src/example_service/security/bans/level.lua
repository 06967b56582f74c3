-- The level of an address's last ban, 0 once it is forgotten.
-- KEYS[1] = the address's level (hash {l = level, f = forgotten at, ms on the server's clock})
-- `now` (ms) comes from the clock prelude.
local level = redis.call('HMGET', KEYS[1], 'l', 'f')
if (tonumber(level[2]) or 0) > now then
  return tonumber(level[1])
end
return 0
