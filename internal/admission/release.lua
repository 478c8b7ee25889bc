-- release: give a hold back (failed commit, cancellation, no-show reissue,
-- abandoned hold). Idempotent: the slot is placed again only if this booking
-- still holds it.
--
-- Where the slot goes (ARGV 5):
--   drop      nowhere (SQL says someone else has it; reconciliation decides)
--   pool      straight back to the target pool (it never really left the
--             market: a failed commit, an abandoned hold)
--   returned  a slot its holder gave back: to the first eligible identity on
--             the waitlist (the joins of rounds that have ended, in order);
--             else held for the waitlist until the open round ends (or for a
--             new round from now), when it goes to the first of that round's
--             joins in the order of their random keys (place.lua); only if
--             nobody joined, back to its pool after a random delay
--   reissue   to the waitlist, else to the target pool (the on-site pool) now
--
-- KEYS: 1 booking record  2 session holds  3 identity holds  4 target pool
--       5 pending holds  6 waitlist  7 delayed slots of the hospital
--       8 the session's round (hash: end = unix ms, and the held slots)
--       9 the session's joins of open rounds
--       10.. three per waitlist candidate: identity holds, bar, booking record
-- ARGV: 1 booking id  2 slot  3 forget record (1/0)
--       4 only if the pending deadline passed (1/0)  5 route  6 delay ms
--       7 channel of the slot  8 hold ms  9 keep-until ms
--       10 the service's clock (unix ms)  11 round ms (0: no round)
--       12..20 session: sid, date, dept, week, month, today, per-day,
--       per-week, per-month  21 the hand-out's last step (1/0; common.lua
--       pass_by)  22 candidates n  23.. candidate entries
-- Reply: {released (1, 0 nothing held, -1 skipped: commit may be in flight),
--         outcome (none, dropped, pool, delayed, held, waitlist, retry,
--         more: the candidates were passed by, nothing released, read on),
--         waitlist id served or '', skipped waitlist ids...}

local now = now_ms()
if ARGV[4] == '1' then
  local deadline = redis.call('ZSCORE', KEYS[5], ARGV[1])
  if deadline and tonumber(deadline) > now then
    return {-1, 'none', ''}
  end
end

local slot, route = ARGV[2], ARGV[5]
local holds_it = redis.call('HGET', KEYS[2], slot) == ARGV[1]
local s = session_args(12)
local w = {wait_key = KEYS[6], held_key = KEYS[2], pending_key = KEYS[5], channel = ARGV[7],
  hold_ms = tonumber(ARGV[8]), keep_until = ARGV[9], last = ARGV[21] == '1',
  cands = candidates(tonumber(ARGV[22]), 23, 10)}
local clock, round_ms = tonumber(ARGV[10]), tonumber(ARGV[11])
local member = s.sid .. '|' .. slot .. '|' .. ARGV[7]

-- Everything that can refuse comes before the first write. A round that
-- has ended joins the line first (a change the caller must see: retry).
if holds_it and (route == 'returned' or route == 'reissue') then
  if close_rounds(KEYS[9], KEYS[6], clock) then return {0, 'retry', ''} end
  if not head_is(w) then return {0, 'retry', ''} end
  -- The hold given back still counts until it is released below: judged
  -- without it, as place() will judge.
  s.exempt = ARGV[1]
  local passed = pass_by(w, now, s)
  s.exempt = nil
  if passed then return with_ids({0, 'more', ''}, passed) end
end

redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
end
if not holds_it then
  return {0, 'none', ''}
end
redis.call('HDEL', KEYS[2], slot)

local outcome, served, skipped = 'dropped', '', {}
if route == 'pool' then
  redis.call('ZADD', KEYS[4], tonumber(slot), slot)
  outcome = 'pool'
elseif route == 'returned' or route == 'reissue' then
  outcome, served, skipped = place(w, now, slot, s, function()
    if route == 'reissue' then
      redis.call('ZADD', KEYS[4], tonumber(slot), slot)
      return 'pool'
    end
    if round_is_open(KEYS[8], clock) then
      return hold_for_round(KEYS[8], KEYS[7], member, slot, clock, 0)
    end
    if round_ms > 0 then
      -- Nobody waits: a new round starts now, for those who ask.
      return hold_for_round(KEYS[8], KEYS[7], member, slot, clock, round_ms)
    end
    redis.call('ZADD', KEYS[7], now + tonumber(ARGV[6]), member)
    return 'delayed'
  end)
end
return with_ids({1, outcome, served}, skipped)
