-- reserve: admit one booking attempt, atomically.
-- Checks, in order and before any write: replay of a known booking id,
-- channel released, patient not barred, per-identity quotas, a free slot.
-- The only write that may come before the last check is ZPOPMIN, which
-- writes nothing when the pool is empty.
--
-- KEYS: 1 booking record  2 session meta  3 bar  4 identity holds
--       5 free pool of the channel  6 session holds  7 pending holds
-- ARGV: 1 booking id  2 nonce  3 channel  4 session id  5 visit date
--       6 department  7 ISO week  8 month  9 today  10 per-day limit
--       11 per-week limit  12 per-month limit  13 hold ms  14 keep-until ms
--       15 identity key
-- Reply: {code[, value]}; code is ok, replay, or a rejection code.

local rec = redis.call('GET', KEYS[1])
if rec then
  local nonce, slot = string.match(rec, '^([^|]*)|[^|]*|([^|]*)|')
  if nonce == ARGV[2] then
    return {'ok', slot} -- a client retry of this same call: it already ran
  end
  return {'replay', slot}
end

local rel = redis.call('HGET', KEYS[2], 'rel:' .. ARGV[3])
if not rel then
  if redis.call('EXISTS', KEYS[2]) == 0 then
    return {'session_not_found'}
  end
  return {'channel_closed'}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now < tonumber(rel) then
  return {'not_released', rel}
end
-- SET ... PXAT fails on a negative time and drops the record at once on a
-- past one; either would strand the slot taken below, so refuse up front.
if tonumber(ARGV[14]) <= now then
  return {'bad_keep_until'}
end

local bar = redis.call('GET', KEYS[3])
if bar and tonumber(bar) > now then
  return {'patient_barred', bar}
end

local day, week, month = 0, 0, 0
local past = {}
local holds = redis.call('HGETALL', KEYS[4])
for i = 1, #holds, 2 do
  local d, dept, w, m, sid = string.match(holds[i + 1], '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|')
  if d == nil or d < ARGV[9] then
    past[#past + 1] = holds[i] -- visit day is over: no longer active
  else
    if sid == ARGV[4] then
      return {'already_booked'}
    end
    if d == ARGV[5] then
      if dept == ARGV[6] then
        return {'quota_day_department'}
      end
      day = day + 1
    end
    if w == ARGV[7] then week = week + 1 end
    if m == ARGV[8] then month = month + 1 end
  end
end
if day >= tonumber(ARGV[10]) then return {'quota_day'} end
if week >= tonumber(ARGV[11]) then return {'quota_week'} end
if month >= tonumber(ARGV[12]) then return {'quota_month'} end

local popped = redis.call('ZPOPMIN', KEYS[5])
if #popped == 0 then
  return {'sold_out'}
end
local slot = popped[1]

redis.call('HSET', KEYS[6], slot, ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1],
  ARGV[5] .. '|' .. ARGV[6] .. '|' .. ARGV[7] .. '|' .. ARGV[8] .. '|' .. ARGV[4] .. '|' .. slot)
if #past > 0 then
  redis.call('HDEL', KEYS[4], unpack(past))
end
redis.call('SET', KEYS[1], ARGV[2] .. '|' .. ARGV[4] .. '|' .. slot .. '|' .. ARGV[3] .. '|' .. ARGV[15],
  'PXAT', ARGV[14])
redis.call('ZADD', KEYS[7], now + tonumber(ARGV[13]), ARGV[1])
return {'ok', slot}
