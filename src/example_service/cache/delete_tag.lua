-- Delete every entry a tag lists, and the tag, atomically: an entry set with the tag after this
-- ran is a new one, and stays.
-- KEYS[1] = the tag (a sorted set of entry keys, see set_tagged.lua)
-- Returns {how many entries existed and were deleted, the keys the tag listed}: the two-level
-- backend evicts those keys from every near cache, which holds values without their tags.
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
local deleted = 0
-- unpack() is limited by Lua's stack (~8000 values): delete in slices.
for i = 1, #members, 1000 do
  deleted = deleted + redis.call('UNLINK', unpack(members, i, math.min(i + 999, #members)))
end
return {deleted, members}
