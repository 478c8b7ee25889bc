-- place: a slot that waited in the hospital's delayed set (a returned slot
-- held for the waitlist whose round is over, one whose random delay is over,
-- one the desk reissues now, or one an administrator moved to another pool
-- (movepool.lua)) goes to the first eligible identity on its session's
-- waitlist; the rounds that ended join the line first, each in the order of
-- its joins' random keys. With nobody eligible: a round still open holds it
-- to its end; a slot held for a round nobody joined waits out the random
-- delay (none: the pool at once); a moved slot is held for a new round (as
-- release.lua's returned route holds a returned slot), else keeps the
-- random delay it waits in; else it goes to the target pool.
--
-- KEYS: 1 delayed slots of the hospital  2 session holds  3 pending holds
--       4 waitlist  5 target pool  6 the session's round (hash: end, held
--       slots)  7 the session's joins of open rounds
--       8.. three per waitlist candidate: identity holds, bar, booking record
-- ARGV: 1 delayed member "session|slot|channel"  2 when: 1 only if due
--       (the sweeper), 0 now (the desk's reissue), r now, as a returned
--       slot (a pool move)  3 channel the slot serves now  4 hold ms
--       5 keep-until ms  6 the service's clock (unix ms)  7 random delay ms
--       8 round ms (0: no round)
--       9..17 session: sid, date, dept, week, month, today, per-day,
--       per-week, per-month  18 the hand-out's last step (1/0; common.lua
--       pass_by)  19 candidates n  20.. candidate entries
-- Reply: {outcome (gone, notdue, pool, delayed, held, waitlist, retry,
--         more: the candidates were passed by, read on), waitlist id or '',
--         skipped waitlist ids...}

local now = now_ms()
local clock = tonumber(ARGV[6])
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due then
  return {'gone', ''}
end
local slot = string.match(ARGV[1], '^[^|]*|([^|]*)|')
local mark = 'slot:' .. slot
local now_asked = ARGV[2] == '0' -- the desk reissues it now, round or not
local returned = ARGV[2] == 'r'  -- moved to this pool: now, as a returned slot
local held = redis.call('HEXISTS', KEYS[6], mark) == 1
-- A held slot is due by the service's clock (the round's end is its); a
-- random delay by Redis's (release.lua set it so).
local by = now
if held then by = clock end
if ARGV[2] == '1' and tonumber(due) > by then
  return {'notdue', ''}
end
if redis.call('HEXISTS', KEYS[2], slot) == 1 then
  redis.call('ZREM', KEYS[1], ARGV[1]) -- held again (reconciled): nothing to place
  redis.call('HDEL', KEYS[6], mark)
  return {'gone', ''}
end
if close_rounds(KEYS[7], KEYS[4], clock) then
  return {'retry', ''} -- the line grew: the caller reads its head again
end
local s = session_args(9)
local w = {wait_key = KEYS[4], held_key = KEYS[2], pending_key = KEYS[3], channel = ARGV[3],
  hold_ms = tonumber(ARGV[4]), keep_until = ARGV[5], last = ARGV[18] == '1',
  cands = candidates(tonumber(ARGV[19]), 20, 8)}
if not head_is(w) then return {'retry', ''} end
local passed = pass_by(w, now, s)
if passed then return with_ids({'more', ''}, passed) end
local outcome, served, skipped = place(w, now, slot, s, function()
  if not now_asked and round_is_open(KEYS[6], clock) then
    return hold_for_round(KEYS[6], KEYS[1], ARGV[1], slot, clock, 0)
  end
  if returned then
    local round_ms = tonumber(ARGV[8])
    if round_ms > 0 then
      -- Nobody waits: a new round starts now, for those who ask.
      return hold_for_round(KEYS[6], KEYS[1], ARGV[1], slot, clock, round_ms)
    end
    return 'delayed' -- it waits out the random delay it was given
  end
  local delay = tonumber(ARGV[7])
  if held and not now_asked and delay > 0 then
    -- Nobody asked during the round: the pool, after the random delay.
    redis.call('HDEL', KEYS[6], mark)
    redis.call('ZADD', KEYS[1], now + delay, ARGV[1])
    return 'delayed'
  end
  redis.call('ZADD', KEYS[5], tonumber(slot), slot)
  return 'pool'
end)
if outcome == 'waitlist' or outcome == 'pool' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[6], mark)
end
return with_ids({outcome, served}, skipped)
