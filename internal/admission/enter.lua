-- enter: admit one lottery entry, atomically.
-- Checks, in order and before any write: replay of a known entry id, the
-- pool takes entries now (by the Redis clock), patient not barred,
-- per-identity quotas counting the entry (one booking or entry per person
-- per session; an entry holds its quota until the draw like a booking).
-- Then: the identity's hold (slot 'E'), the entry record, the session's
-- entries, and a pending deadline until SQL has the entry.
--
-- KEYS: 1 entry record  2 session meta  3 bar  4 identity holds
--       5 session entries  6 pending entries  7 the hospital's mark
--       (mark.lua): without it the state is not whole
-- ARGV: 1 entry id  2 nonce  3 channel  4 session id  5 visit date
--       6 department  7 ISO week  8 month  9 today  10 per-day limit
--       11 per-week limit  12 per-month limit  13 hold ms  14 keep-until ms
--       15 identity key
--       then, per shared rate limit (KEYS 8 on, ARGV 16 on): limit, period ms
-- Reply: {code[, value]}: ok, replay, rate_limited (values: the counter's
-- ms to live, which limit, from 1), window_closed (the draw time has
-- come: the attempt is a booking attempt), not_released (value: opens ms),
-- not_lottery (no lottery window in Redis, or its seed not committed yet), or
-- a refusal code, or state_missing.

-- As in reserve.lua: judge nothing on a state that is not whole.
if redis.call('EXISTS', KEYS[7]) == 0 then
  return {'state_missing'}
end

local rec = redis.call('GET', KEYS[1])
if rec then
  if string.match(rec, '^([^|]*)|') == ARGV[2] then
    return {'ok'} -- a client retry of this same call: it already ran
  end
  return {'replay'}
end

-- The caller's shared rate limits, as they come before any other request
-- reaches its handler (common.lua shared_limits), so booking attempts and
-- entries share one count. Over any limit, nothing is written. After the
-- replay check, so that a client library's retry of a call that already ran
-- is answered as the call was.
local limited, which = shared_limits(8, 16)
if limited then
  return {'rate_limited', tostring(limited), tostring(which)}
end

local meta = redis.call('HMGET', KEYS[2], 'lot:' .. ARGV[3], 'seed:' .. ARGV[3], 'drawn:' .. ARGV[3])
local lot = meta[1]
if not lot then
  if redis.call('EXISTS', KEYS[2]) == 0 then
    return {'session_not_found'}
  end
  return {'not_lottery'}
end
local opens, draw = string.match(lot, '^(%d+)|(%d+)$')
local now = now_ms()
if now >= tonumber(draw) or meta[3] then
  return {'window_closed', draw}
end
if not meta[2] then
  return {'not_lottery'} -- the seed is not committed yet: no entry before it is
end
if now < tonumber(opens) then
  return {'not_released', opens}
end
if tonumber(ARGV[14]) <= now then
  return {'bad_keep_until'}
end

local s = session_args(4)
local why, detail = refusal(KEYS[4], KEYS[3], now, s)
if why then
  return {why, detail}
end

redis.call('HSET', KEYS[4], ARGV[1], s.date .. '|' .. s.dept .. '|' .. s.week .. '|' .. s.month .. '|' .. s.sid .. '|E')
if detail and #detail > 0 then
  redis.call('HDEL', KEYS[4], unpack(detail))
end
redis.call('SET', KEYS[1], ARGV[2] .. '|' .. ARGV[4] .. '|' .. ARGV[3] .. '|' .. ARGV[15], 'PXAT', ARGV[14])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[3] .. '|' .. ARGV[15])
redis.call('ZADD', KEYS[6], now + tonumber(ARGV[13]), ARGV[1])
return {'ok'}
