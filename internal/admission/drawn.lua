-- drawn: mark a lottery pool's draw done (reserve.lua serves the pool
-- first-come from then on), after taking what the draw left out of the
-- pool: like a returned slot that finds nobody waiting, each free slot is
-- held for the waitlist until the session's open round ends (or for a new
-- round from now), then goes to the line, or, if nobody joined, to the pool
-- after the random delay (place.lua). So it never opens to first-come at
-- the draw's known moment. Idempotent: once marked drawn it does nothing.
--
-- KEYS: 1 session meta  2 the pool's free slots  3 the session's round
--       4 delayed slots of the hospital
-- ARGV: 1 sid  2 channel  3 the service's clock (unix ms)  4 round ms (0:
--       leave the slots in the pool)
-- Reply: how many slots were held.

local field = 'drawn:' .. ARGV[2]
if redis.call('HEXISTS', KEYS[1], field) == 1 then
  return 0
end
local clock, round_ms = tonumber(ARGV[3]), tonumber(ARGV[4])
local n = 0
if round_ms > 0 then
  local fresh = not round_is_open(KEYS[3], clock)
  for _, slot in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    redis.call('ZREM', KEYS[2], slot)
    local r = 0
    if fresh then r = round_ms end
    hold_for_round(KEYS[3], KEYS[4], ARGV[1] .. '|' .. slot .. '|' .. ARGV[2], slot, clock, r)
    fresh = false
    n = n + 1
  end
end
redis.call('HSET', KEYS[1], field, '1')
return n
