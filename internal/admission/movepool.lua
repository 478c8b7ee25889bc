-- movepool: an administrator moves up to n free slots (the latest first)
-- from one channel pool of a session to another. A moved slot comes to the
-- other pool as a returned slot does (PRODUCT.md: it never reappears at a
-- predictable moment): it leaves the from pool straight for the hospital's
-- delayed set, as the to channel's slot waiting out its random delay, and
-- is free in no pool. Once SQL has the move, the service hands each one out
-- as release.lua's returned route does (place.lua, mode 'r'): to the
-- waitlist first, else held for the waitlist's round, else after its random
-- delay; should the service not get that far, the sweeper places it when
-- its delay is over (the waitlist first, else the pool). With n = 0 it
-- moves exactly the given slots back (SQL refused the move), the caller
-- naming as from the pool they were moved to: each parked as the from
-- pool's slot in the delayed set (or free in the from pool, had the sweeper
-- put it there) goes to the to pool.
--
-- KEYS: 1 session meta  2 from pool  3 to pool  4 delayed slots of the
--       hospital  5 the session's round (hash: end, held slots)
-- ARGV: 1 n  2 to channel  3 release ms for the to channel if it has none
--       4 session id  5 from channel
--       6.. n > 0: the random delay ms of each slot moved, in order;
--           n = 0: the slots to move back
-- Reply: {the from pool's slots held for the waitlist's round (counted
--         when none moved), the slots moved...}

local now = now_ms()
local sid, to, from = ARGV[4], ARGV[2], ARGV[5]
local n = tonumber(ARGV[1])
local moved = {0}
if n == 0 then
  for i = 6, #ARGV do
    local slot = ARGV[i]
    if redis.call('ZREM', KEYS[4], sid .. '|' .. slot .. '|' .. from) == 1
      or redis.call('ZREM', KEYS[2], slot) == 1 then
      redis.call('ZADD', KEYS[3], tonumber(slot), slot)
      moved[#moved + 1] = slot
    end
  end
  return moved
end

local popped = redis.call('ZPOPMAX', KEYS[2], n)
for i = 1, #popped, 2 do
  local slot = popped[i]
  local delay = tonumber(ARGV[6 + (i - 1) / 2]) or 0
  redis.call('ZADD', KEYS[4], now + delay, sid .. '|' .. slot .. '|' .. to)
  moved[#moved + 1] = slot
end
if #moved > 1 then
  redis.call('HSETNX', KEYS[1], 'rel:' .. to, ARGV[3])
else
  -- Nothing free: say how many of the from pool's slots wait for the
  -- waitlist's round (a draw's leftovers, a returned slot), so the answer
  -- can say where they are.
  local held = 0
  for _, f in ipairs(redis.call('HKEYS', KEYS[5])) do
    local slot = string.match(f, '^slot:(.*)$')
    if slot and redis.call('ZSCORE', KEYS[4], sid .. '|' .. slot .. '|' .. from) then
      held = held + 1
    end
  end
  moved[1] = held
end
return moved
