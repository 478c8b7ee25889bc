-- reserve: admit one booking attempt, atomically.
-- Checks, in order and before any write: replay of a known booking id,
-- channel released, a lottery pool drawn, patient not barred, per-identity
-- quotas, a free slot. The only write that may come before the last check is
-- ZPOPMIN, which writes nothing when the pool is empty.
--
-- KEYS: 1 booking record  2 session meta  3 bar  4 identity holds
--       5 free pool of the channel  6 session holds  7 pending holds
--       8 the hospital's mark (mark.lua): without it the state is not whole
-- ARGV: 1 booking id  2 nonce  3 channel  4 session id  5 visit date
--       6 department  7 ISO week  8 month  9 today  10 per-day limit
--       11 per-week limit  12 per-month limit  13 hold ms  14 keep-until ms
--       15 identity key  16 draw (1: the lottery's draw books a winner whose
--       entry id is the booking id: the pool's gate is passed and the
--       entry's own quota hold becomes the booking's)
--       then, per shared rate limit (KEYS 9 on, ARGV 17 on): limit, period ms
-- Reply: {code[, value]}; code is ok, replay, state_missing, rate_limited
-- (values: the counter's ms to live, which limit, from 1), or a rejection
-- code (lottery_pending: the pool is a lottery not drawn yet, value its
-- draw ms; sold_out: value 'pending' when holds of the hospital are).

-- A Redis that lost its data (restarted empty, flushed) has no mark: judge
-- nothing on what is left until the state is reloaded from SQL.
if redis.call('EXISTS', KEYS[8]) == 0 then
  return {'state_missing'}
end

local rec = redis.call('GET', KEYS[1])
if rec then
  local nonce, slot = string.match(rec, '^([^|]*)|[^|]*|([^|]*)|')
  if nonce == ARGV[2] then
    return {'ok', slot} -- a client retry of this same call: it already ran
  end
  return {'replay', slot}
end

-- The caller's shared rate limits come next, as in enter.lua: an attempt
-- over one is refused before anything is written. After the replay check,
-- so that a client library's retry of a call that already ran is answered
-- as the call was, not refused and its slot left to lapse.
local limited, which = shared_limits(9, 17)
if limited then
  return {'rate_limited', tostring(limited), tostring(which)}
end

local rel = redis.call('HGET', KEYS[2], 'rel:' .. ARGV[3])
if not rel then
  if redis.call('EXISTS', KEYS[2]) == 0 then
    return {'session_not_found'}
  end
  return {'channel_closed'}
end
local now = now_ms()
local draw = ARGV[16] == '1'
if now < tonumber(rel) and not draw then
  return {'not_released', rel}
end
local lot = redis.call('HGET', KEYS[2], 'lot:' .. ARGV[3])
if lot and not draw and redis.call('HEXISTS', KEYS[2], 'drawn:' .. ARGV[3]) == 0 then
  return {'lottery_pending', string.match(lot, '|(%d+)$')}
end
-- SET ... PXAT fails on a negative time and drops the record at once on a
-- past one; either would strand the slot taken below, so refuse up front.
if tonumber(ARGV[14]) <= now then
  return {'bad_keep_until'}
end

local s = session_args(4)
if draw then s.exempt = ARGV[1] end
local why, detail = refusal(KEYS[4], KEYS[3], now, s)
if why then
  return {why, detail} -- detail: the bar's end for patient_barred
end
local past = detail -- holds of past days, pruned below

local popped = redis.call('ZPOPMIN', KEYS[5])
if #popped == 0 then
  -- Whether holds of the hospital are pending (their commits not known
  -- done): while SQL refuses writes, they may be all that empties the pool
  -- (booking/writehealth.go). ZCARD is O(1).
  if redis.call('ZCARD', KEYS[7]) > 0 then
    return {'sold_out', 'pending'}
  end
  return {'sold_out'}
end
local slot = popped[1]
assign(KEYS[6], KEYS[4], KEYS[1], KEYS[7], now, slot, s,
  {bid = ARGV[1], nonce = ARGV[2], ik = ARGV[15], channel = ARGV[3],
   hold_ms = tonumber(ARGV[13]), keep_until = ARGV[14]}, past)
return {'ok', slot}
