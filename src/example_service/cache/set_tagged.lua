-- Set entries with one time to live and tag them, atomically: a delete_tag running at the same
-- time either runs first (and the entries are new) or sees them all.
-- KEYS = the n entries' keys, then the tags' keys
-- ARGV = ttl_ms, n, then the n values
-- A tag is a sorted set of its entries' keys scored by when each expires (ms, the server's
-- clock). Each write to a tag first prunes the members already expired, and the tag itself
-- expires with its longest-lived entry: it holds the entries live at once, never its history.
-- Returns n.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local ttl = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local expires = now + ttl
for i = 1, n do
  redis.call('SET', KEYS[i], ARGV[2 + i], 'PX', ttl)
end
for t = n + 1, #KEYS do
  local tag = KEYS[t]
  redis.call('ZREMRANGEBYSCORE', tag, '-inf', now)
  for i = 1, n do
    redis.call('ZADD', tag, expires, KEYS[i])
  end
  -- PTTL is -1 for a tag just created: it gets the entries' TTL; an older tag keeps a longer one.
  if redis.call('PTTL', tag) < ttl then
    redis.call('PEXPIRE', tag, ttl)
  end
end
return n
