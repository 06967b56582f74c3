-- Prepended to every rate-limit script: `now`, in milliseconds, on the Redis server's clock.
-- Every instance then decides on one clock whatever its own says: counted on each host's clock,
-- two hosts 30 s apart reset each other's windows and a shared limit stops holding.
-- TIME in a script that writes needs effects replication: the default since Redis 5, the only
-- mode since Redis 7 (a script's effects, not the script, reach replicas and the AOF).
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
