-- redelay: returned slots that are free in their pool wait out a delay
-- again, in the hospital's delayed set, so place.lua gives them out as it
-- gives any returned slot: the waitlist first (an open round holds them),
-- else the pool. A reload after Redis lost its state runs it: the delays
-- and round holds were lost with it, and load.lua put the slots in their
-- pools. A slot not free (booked meanwhile, or never free) is left alone.
--
-- KEYS: 1 delayed slots of the hospital  2.. the pool of each slot
-- ARGV: per slot: member "session|slot|channel", slot number, delay ms
-- Reply: how many slots now wait.

local now = now_ms()
local n = 0
for i = 2, #KEYS do
  local a = 3 * (i - 2)
  if redis.call('ZREM', KEYS[i], ARGV[a + 2]) == 1 then
    redis.call('ZADD', KEYS[1], 'NX', now + tonumber(ARGV[a + 3]), ARGV[a + 1])
    n = n + 1
  end
end
return n
