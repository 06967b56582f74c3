-- Sliding window counter over a per-window slot and an hourly slot, atomically: the same
-- arithmetic as MemoryBackend._sliding (weights scaled by the window length, all integers).
-- KEYS[1] = the key's hash {mi, mc, mp, hi, hc, hp}: slot index, its count, previous count
-- ARGV = window_ms, capacity, cost, hour_capacity (0 = no hourly limit)
-- `now` (ms) comes from the clock prelude the backend puts first (redis_time.lua).
-- Returns {allowed, limit, remaining, reset_epoch_s, retry_after_s, reset_after_s}
local w = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local hour_cap = tonumber(ARGV[4])
local HOUR = 3600000

local function wait_ms(c, span, e, curr, prev)
  if cost > c then return span end
  if curr + cost <= c then
    if prev == 0 then return 0 end
    return math.max(0, span - math.floor((c - curr - cost) * span / prev) - e)
  end
  local later = 0
  if curr > 0 then later = math.max(0, span - math.floor((c - cost) * span / curr)) end
  return (span - e) + later
end

local function slot(span, stored_idx, stored_curr, stored_prev)
  local idx = math.floor(now / span)
  local curr, prev = tonumber(stored_curr) or 0, tonumber(stored_prev) or 0
  local si = tonumber(stored_idx)
  if si ~= idx then
    if si == idx - 1 then prev = curr else prev = 0 end
    curr = 0
  end
  return idx, now - idx * span, curr, prev
end

local s = redis.call('HMGET', KEYS[1], 'mi', 'mc', 'mp', 'hi', 'hc', 'hp')
local idx, e, curr, prev = slot(w, s[1], s[2], s[3])
local used = prev * (w - e) + curr * w
local fits = used + cost * w <= cap * w
local hidx, he, hcurr, hprev, hused = 0, 0, 0, 0, 0
local hfits = true
local span = w
if hour_cap > 0 then
  hidx, he, hcurr, hprev = slot(HOUR, s[4], s[5], s[6])
  hused = hprev * (HOUR - he) + hcurr * HOUR
  hfits = hused + cost * HOUR <= hour_cap * HOUR
  span = HOUR
end
if fits and hfits then
  curr = curr + cost
  hcurr = hcurr + cost
  used = used + cost * w
  hused = hused + cost * HOUR
end
-- The state is written back even when refused: slots may have rolled over.
redis.call('HSET', KEYS[1], 'mi', idx, 'mc', curr, 'mp', prev, 'hi', hidx, 'hc', hcurr, 'hp', hprev)
redis.call('PEXPIRE', KEYS[1], 2 * span)

local limit, left, reset = cap, math.floor((cap * w - used) / w), (idx + 1) * w
if hour_cap > 0 then
  local hleft = math.floor((hour_cap * HOUR - hused) / HOUR)
  if hleft < left then
    limit, left, reset = hour_cap, hleft, (hidx + 1) * HOUR
  end
end
local after = math.ceil((reset - now) / 1000)
if fits and hfits then
  return {1, limit, left, math.ceil(reset / 1000), 0, after}
end
local wait = 0
if not fits then wait = wait_ms(cap, w, e, curr, prev) end
if not hfits then wait = math.max(wait, wait_ms(hour_cap, HOUR, he, hcurr, hprev)) end
return {0, limit, math.max(0, left), math.ceil(reset / 1000),
        math.max(1, math.ceil(wait / 1000)), after}
