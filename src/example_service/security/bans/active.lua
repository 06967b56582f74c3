-- The bans in force, after dropping those that ended.
-- KEYS[1] = the bans (sorted set: address -> banned until, ms on the server's clock)
-- `now` (ms) comes from the clock prelude. Returns {now, {address, until, address, until, ...}}.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return {now, redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')}
