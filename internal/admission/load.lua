-- load: make one session's state match SQL, atomically, while traffic runs.
-- Holds SQL does not know are released unless their commit may still be in
-- flight (pending deadline not passed), those SQL has cancelled always (a
-- cancellation marks its hold pending first: pend.lua); SQL's active bookings are held (a
-- pending deadline of theirs not passed is kept: a cancellation may be in
-- flight); every
-- other slot of each channel is free, except slots waiting out a random
-- delay (their place comes when the delay is over) as that channel's; a
-- slot parked in the delayed set as another channel's is taken out.
--
-- KEYS: 1 session meta  2 session holds  3 pending holds
--       4 delayed slots of the hospital
--       5 .. 4+C          free pool of each channel, in ARGV order
--       then for each active booking: identity holds, booking record
--       then for each stale hold:     identity holds, booking record
--       last: the session's closed mark
-- ARGV: 1 C channels  2 A active  3 S stale  4 visit date  5 department
--       then per channel: name, release ms ("" for a stopped clinic: closed,
--                         no free slot), slot numbers "1,2,3", lottery
--                         ("" for first-come; a lottery pool:
--                         "opens ms|draw ms|seed committed 1/0|drawn 1/0")
--       then per active:  booking id, slot, identity entry, record, keep-until ms
--       then per stale:   booking id, slot, forget (1/0), cancelled in SQL (1/0)
-- Reply: number of stale holds released.
--
-- A lottery pool's meta fields: lot:<channel> "opens ms|draw ms" (closed to
-- first-come until drawn), seed:<channel> once its seed is committed (it
-- takes entries in its window) and drawn:<channel> once its draw is done
-- (what is left is booked first-come). seed and drawn never go back: a
-- commitment or a draw that came after SQL was read keeps them.

local nc, na, ns = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now = now_ms()
local sid = string.match(KEYS[1], ':s:([^:]+)$')

-- The last key is the session's closed mark (admission.Gate.Close): while
-- it lives, the session gets no release time and no free slot, whatever SQL
-- says, so a reconciliation cannot reopen a session whose schedule changes.
local closed_all = redis.call('EXISTS', KEYS[#KEYS]) == 1

local drawn, seeded = {}, {}
for c = 0, nc - 1 do
  local ch = ARGV[6 + 4 * c]
  drawn[ch] = redis.call('HEXISTS', KEYS[1], 'drawn:' .. ch) == 1
  seeded[ch] = redis.call('HEXISTS', KEYS[1], 'seed:' .. ch) == 1
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'date', ARGV[4], 'dept', ARGV[5])
for c = 0, nc - 1 do
  local ch, lot = ARGV[6 + 4 * c], ARGV[9 + 4 * c]
  if ARGV[7 + 4 * c] ~= '' and not closed_all then
    redis.call('HSET', KEYS[1], 'rel:' .. ch, ARGV[7 + 4 * c])
  end
  if lot ~= '' and not closed_all then
    local opens, draw, seed, done = string.match(lot, '^(%d+)|(%d+)|([01])|([01])$')
    redis.call('HSET', KEYS[1], 'lot:' .. ch, opens .. '|' .. draw)
    if seed == '1' or seeded[ch] then
      redis.call('HSET', KEYS[1], 'seed:' .. ch, '1')
    end
    if done == '1' or drawn[ch] then
      redis.call('HSET', KEYS[1], 'drawn:' .. ch, '1')
    end
  end
end

local ka = 5 + nc          -- first key of the active bookings
local ks = ka + 2 * na     -- first key of the stale holds
local aa = 6 + 4 * nc      -- first argument of the active bookings
local as = aa + 5 * na     -- first argument of the stale holds

local released = 0
for i = 0, ns - 1 do
  local bid, slot, forget = ARGV[as + 4 * i], ARGV[as + 4 * i + 1], ARGV[as + 4 * i + 2]
  local deadline = redis.call('ZSCORE', KEYS[3], bid)
  -- A booking SQL has cancelled is released even while pending: its
  -- cancellation committed, and nothing of it is in flight.
  if ARGV[as + 4 * i + 3] == '1' or not (deadline and tonumber(deadline) > now) then
    if redis.call('HGET', KEYS[2], slot) == bid then
      redis.call('HDEL', KEYS[2], slot)
    end
    redis.call('HDEL', KEYS[ks + 2 * i], bid)
    redis.call('ZREM', KEYS[3], bid)
    if forget == '1' then
      redis.call('DEL', KEYS[ks + 2 * i + 1])
    end
    released = released + 1
  end
end

for i = 0, na - 1 do
  local bid, slot = ARGV[aa + 5 * i], ARGV[aa + 5 * i + 1]
  redis.call('HSET', KEYS[2], slot, bid)
  redis.call('HSET', KEYS[ka + 2 * i], bid, ARGV[aa + 5 * i + 2])
  redis.call('SET', KEYS[ka + 2 * i + 1], ARGV[aa + 5 * i + 3], 'PXAT', ARGV[aa + 5 * i + 4], 'NX')
  -- A pending deadline not passed stays: a change to the booking may be
  -- in flight (a cancellation, pend.lua), and the sweeper settles it.
  local deadline = redis.call('ZSCORE', KEYS[3], bid)
  if not (deadline and tonumber(deadline) > now) then
    redis.call('ZREM', KEYS[3], bid)
  end
end

-- A slot waits out its delay only as its own channel's (SQL's): one parked
-- as another channel's is a pool move SQL refused whose put-back was lost
-- (movepool.lua), and would come free in a pool SQL never gave it.
local channels = {}
for c = 0, nc - 1 do
  channels[#channels + 1] = ARGV[6 + 4 * c]
end
for c = 0, nc - 1 do
  local pool, channel = KEYS[5 + c], ARGV[6 + 4 * c]
  redis.call('DEL', pool)
  local closed = ARGV[7 + 4 * c] == '' or closed_all
  for slot in string.gmatch(ARGV[8 + 4 * c], '[^,]+') do
    local member = sid .. '|' .. slot .. '|' .. channel
    for _, other in ipairs(channels) do
      if other ~= channel then
        redis.call('ZREM', KEYS[4], sid .. '|' .. slot .. '|' .. other)
      end
    end
    if closed then
      redis.call('ZREM', KEYS[4], member) -- a stopped clinic: no slot is free
    elseif redis.call('HEXISTS', KEYS[2], slot) == 1 then
      redis.call('ZREM', KEYS[4], member) -- held: no longer waiting for its delay
    elseif not redis.call('ZSCORE', KEYS[4], member) then
      redis.call('ZADD', pool, tonumber(slot), slot)
    end
  end
end

return released
