-- Add to a counter, giving it a time to live only when this call creates it (a later increment
-- never extends the first one's window), atomically.
-- KEYS[1] = the counter; ARGV = amount, ttl_ms (0: none)
-- Returns the new value.
local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if created and ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return value
