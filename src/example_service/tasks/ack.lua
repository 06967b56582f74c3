-- A finished task's message: acknowledged for the consumer group, then deleted from the stream,
-- in one call. KEYS[1] the stream; ARGV[1] the group, ARGV[2] the entry id.
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])
