-- Lift a ban and forget the address: its level and its strikes of both kinds.
-- KEYS[1] = the bans (sorted set), KEYS[2] = its level, KEYS[3..] = its strike counters
-- ARGV[1] = address. Returns 1 if a ban was in force, else 0.
-- `now` (ms) comes from the clock prelude.
local banned = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '0')
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', unpack(KEYS, 2))
if banned > now then
  return 1
end
return 0
