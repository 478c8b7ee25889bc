-- common: functions the scripts share. admission.go puts this file in front
-- of each script, so they stay single atomic scripts.

-- shared_limits counts the caller's shared rate limits (KEYS first_key on,
-- each with a limit and a period in ms at ARGV first_arg on): each as
-- ulule/limiter's Redis store counts it (its incr script: INCRBY, the period
-- set on the first count, else the time left read), so attempts counted here
-- and every other request share one count. All are counted, as the store's
-- calls are. It returns the first limit over (its counter's ms to live, its
-- number from 1), or nil.
local function shared_limits(first_key, first_arg)
  local limited, which
  for i = first_key, #KEYS do
    local j = first_arg + (i - first_key) * 2
    local n = redis.call('INCRBY', KEYS[i], 1)
    local ttl = tonumber(ARGV[j + 1])
    if n == 1 then
      if ttl > 0 then
        redis.call('PEXPIRE', KEYS[i], ARGV[j + 1])
      end
    else
      ttl = redis.call('PTTL', KEYS[i])
    end
    if n > tonumber(ARGV[j]) and not limited then
      limited, which = ttl, i - first_key + 1
    end
  end
  return limited, which
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- refusal says why an identity may not hold one more booking (or lottery
-- entry) of session sid (nil: it may). It only reads. Holds of past visit
-- days do not count; their fields are returned so a caller that writes
-- anyway can prune them. A lottery entry holds its quota like a booking: its
-- hold's slot is 'E'. s.exempt, when set, names a hold that does not count:
-- the entry the draw is turning into this booking.
-- s: {sid, date, dept, week, month, today, per_day, per_week, per_month[, exempt]}
local function refusal(ident_key, bar_key, now, s)
  local bar = redis.call('GET', bar_key)
  if bar and tonumber(bar) > now then
    return 'patient_barred', bar
  end
  local day, week, month = 0, 0, 0
  local past = {}
  local holds = redis.call('HGETALL', ident_key)
  for i = 1, #holds, 2 do
    local d, dept, w, m, sid, slot = string.match(holds[i + 1], '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
    if holds[i] == s.exempt then
      -- not counted
    elseif d == nil or d < s.today then
      past[#past + 1] = holds[i]
    else
      if sid == s.sid then
        if slot == 'E' then return 'already_entered' end
        return 'already_booked'
      end
      if d == s.date then
        if dept == s.dept then return 'quota_day_department' end
        day = day + 1
      end
      if w == s.week then week = week + 1 end
      if m == s.month then month = month + 1 end
    end
  end
  if day >= s.per_day then return 'quota_day' end
  if week >= s.per_week then return 'quota_week' end
  if month >= s.per_month then return 'quota_month' end
  return nil, past
end

-- assign gives slot to booking bid of identity ik: the session's holds, the
-- identity's holds, the booking record and a pending deadline.
-- s as for refusal; a: {bid, nonce, ik, channel, hold_ms, keep_until}
local function assign(held_key, ident_key, record_key, pending_key, now, slot, s, a, past)
  redis.call('HSET', held_key, slot, a.bid)
  redis.call('HSET', ident_key, a.bid,
    s.date .. '|' .. s.dept .. '|' .. s.week .. '|' .. s.month .. '|' .. s.sid .. '|' .. slot)
  if past and #past > 0 then
    redis.call('HDEL', ident_key, unpack(past))
  end
  redis.call('SET', record_key, a.nonce .. '|' .. s.sid .. '|' .. slot .. '|' .. a.channel .. '|' .. a.ik,
    'PXAT', a.keep_until)
  redis.call('ZADD', pending_key, now + a.hold_ms, a.bid)
end

-- head_is says whether the session's waitlist still starts with the
-- candidates the caller read just before (and is empty if it read none).
local function head_is(w)
  local n = #w.cands
  if n == 0 then return redis.call('LLEN', w.wait_key) == 0 end
  local head = redis.call('LRANGE', w.wait_key, 0, n - 1)
  if #head ~= n then return false end
  for i = 1, n do
    if head[i] ~= w.cands[i].entry then return false end
  end
  return true
end

-- first_eligible is the first candidate a returned slot may go to (0:
-- none), with its past holds to prune.
local function first_eligible(w, now, s)
  for i = 1, #w.cands do
    local why, past = refusal(w.cands[i].ident_key, w.cands[i].bar_key, now, s)
    if why == nil then return i, past end
  end
  return 0, nil
end

-- with_ids appends ids to a script's reply.
local function with_ids(reply, ids)
  for _, id in ipairs(ids) do reply[#reply + 1] = id end
  return reply
end

-- pass_by reads on past a head of the line nobody in it may be served
-- from: with no candidate eligible and more of the line behind them, the
-- candidates leave the line and their ids are returned, and the caller
-- answers 'more' having placed nothing; admission.go reads the next head
-- and runs the script again. So places that will all be passed by (a held
-- person put in line beside others many times, people over a quota) cannot
-- send a slot to the pool past those behind them. One step reads at most
-- the candidates given (20); the steps are bounded in admission.go, whose
-- last step (w.last) places the slot whatever stands further back. nil:
-- place the slot now (the caller has checked the head with head_is).
local function pass_by(w, now, s)
  local n = #w.cands
  if w.last or n == 0 or first_eligible(w, now, s) > 0 or redis.call('LLEN', w.wait_key) <= n then
    return nil
  end
  local skipped = {}
  for i = 1, n do
    redis.call('LPOP', w.wait_key)
    skipped[i] = w.cands[i].wid
  end
  return skipped
end

-- place puts a returned slot where it belongs: to the first eligible
-- identity on the session's waitlist, else to the fallback. The caller read
-- the head of the waitlist (cands, with their keys) just before; if the list
-- changed since, nothing is written and 'retry' is returned.
-- w: {wait_key, held_key, pending_key, cands = {{entry, wid, ik, ident_key,
--     bar_key, record_key}}, hold_ms, keep_until, channel}
-- fallback: function() that places the slot elsewhere and returns its name.
-- Returns outcome, the waitlist id served (or ''), and the skipped entries.
local function place(w, now, slot, s, fallback)
  if not head_is(w) then return 'retry', '', {} end
  local n = #w.cands
  -- Find the first eligible candidate before writing anything.
  local chosen, chosen_past = first_eligible(w, now, s)
  local skipped = {}
  local popped = chosen
  if chosen == 0 then popped = n end
  for i = 1, popped do
    redis.call('LPOP', w.wait_key)
    if i ~= chosen then skipped[#skipped + 1] = w.cands[i].wid end
  end
  if chosen > 0 then
    local c = w.cands[chosen]
    assign(w.held_key, c.ident_key, c.record_key, w.pending_key, now, slot, s,
      {bid = c.wid, nonce = 'wait', ik = c.ik, channel = w.channel, hold_ms = w.hold_ms, keep_until = w.keep_until},
      chosen_past)
    return 'waitlist', c.wid, skipped
  end
  return fallback(), '', skipped
end

-- session_args reads the session fields every placing script passes, from
-- ARGV[i] on: sid, date, dept, week, month, today, per-day, per-week,
-- per-month. It returns them and the next index.
local function session_args(i)
  return {
    sid = ARGV[i], date = ARGV[i + 1], dept = ARGV[i + 2], week = ARGV[i + 3], month = ARGV[i + 4],
    today = ARGV[i + 5], per_day = tonumber(ARGV[i + 6]), per_week = tonumber(ARGV[i + 7]),
    per_month = tonumber(ARGV[i + 8]),
  }, i + 9
end

-- candidates reads n waitlist candidates: entries "wid|ik" from ARGV[i] on,
-- their keys from KEYS[k] on (identity holds, bar, booking record each).
local function candidates(n, i, k)
  local out = {}
  for j = 0, n - 1 do
    local entry = ARGV[i + j]
    local wid, ik = string.match(entry, '^([^|]*)|(.*)$')
    out[#out + 1] = {entry = entry, wid = wid, ik = ik,
      ident_key = KEYS[k + 3 * j], bar_key = KEYS[k + 3 * j + 1], record_key = KEYS[k + 3 * j + 2]}
  end
  return out
end

-- round_is_open: the session's round (KEYS round hash, field end) has not
-- ended by clock (the service's, unix ms). A round holds returned slots for
-- the waitlist until its end, then they are drawn among those waiting.
local function round_is_open(round_key, clock)
  local e = redis.call('HGET', round_key, 'end')
  return e ~= false and tonumber(e) > clock
end

-- hold_for_round puts a returned slot in the delayed set until the session's
-- round ends and marks it held for the waitlist. With round_ms > 0 a new
-- round starts at clock; else the open round's end is used.
local function hold_for_round(round_key, delayed_key, member, slot, clock, round_ms)
  local e
  if round_ms > 0 then
    e = clock + round_ms
    redis.call('HSET', round_key, 'end', e)
    -- Kept a day past its end: a slot the sweeper has not placed yet still
    -- finds its mark.
    redis.call('PEXPIRE', round_key, round_ms + 86400000)
  else
    e = tonumber(redis.call('HGET', round_key, 'end'))
  end
  redis.call('HSET', round_key, 'slot:' .. slot, '1')
  redis.call('ZADD', delayed_key, e, member)
  return 'held'
end

-- close_rounds moves the joins of every round that has ended by clock (the
-- service's, unix ms) from the session's joins (zset: score = the round's
-- end, member = "key|entry id|identity key") to the end of its waitlist,
-- ordered by round, then by each join's random key. It reports whether it
-- moved any.
local function close_rounds(joins_key, wait_key, clock)
  local due = redis.call('ZRANGEBYSCORE', joins_key, '-inf', clock)
  if #due == 0 then return false end
  for _, m in ipairs(due) do
    redis.call('RPUSH', wait_key, string.match(m, '^[^|]*|(.*)$'))
  end
  redis.call('ZREMRANGEBYSCORE', joins_key, '-inf', clock)
  return true
end
