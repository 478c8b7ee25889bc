-- place: a slot that waited in the hospital's delayed set goes where it
-- belongs now:
--   - a round of its session is open: it waits for the round's end (held);
--   - it was held for the waitlist and its round is over: to an identity
--     drawn among everyone on the waitlist (the caller shuffled the list;
--     'draw'); with nobody waiting, back to its pool after the random delay
--     (or at once with no delay);
--   - a returned slot whose random delay is over, or one the desk reissues
--     now (round or not): to the first eligible identity on the waitlist, else the target
--     pool ('head').
--
-- KEYS: 1 delayed slots of the hospital  2 session holds  3 pending holds
--       4 waitlist  5 target pool  6 the session's round (hash: end, held
--       slots)
--       7.. three per waitlist candidate: identity holds, bar, booking record
-- ARGV: 1 delayed member "session|slot|channel"  2 only if due (1/0)
--       3 channel the slot serves now  4 hold ms  5 keep-until ms
--       6 the service's clock (unix ms)  7 random delay ms  8 mode (head,
--       draw)  9 waitlist length the draw was made over
--       10..18 session: sid, date, dept, week, month, today, per-day,
--       per-week, per-month  19 candidates n  20.. candidate entries (for
--       'draw', in drawn order)
-- Reply: {outcome (gone, notdue, pool, delayed, held, waitlist, retry),
--         waitlist id or '', skipped waitlist ids...}

local now = now_ms()
local clock = tonumber(ARGV[6])
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due then
  return {'gone', ''}
end
local slot = string.match(ARGV[1], '^[^|]*|([^|]*)|')
local mark = 'slot:' .. slot
local now_asked = ARGV[2] ~= '1' -- the desk reissues it now, round or not
local held = not now_asked and redis.call('HEXISTS', KEYS[6], mark) == 1
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
if not now_asked and round_is_open(KEYS[6], clock) then
  return {hold_for_round(KEYS[6], KEYS[1], ARGV[1], slot, clock, 0), ''}
end
local mode = 'head'
if held then mode = 'draw' end
if ARGV[8] ~= mode then
  return {'retry', ''} -- the caller read another state: it reads again
end
local s = session_args(10)
local w = {wait_key = KEYS[4], held_key = KEYS[2], pending_key = KEYS[3], channel = ARGV[3],
  hold_ms = tonumber(ARGV[4]), keep_until = ARGV[5], cands = candidates(tonumber(ARGV[19]), 20, 7)}

local outcome, served, skipped
if held then
  if redis.call('LLEN', w.wait_key) ~= tonumber(ARGV[9]) then
    return {'retry', ''}
  end
  for _, c in ipairs(w.cands) do
    if not redis.call('LPOS', w.wait_key, c.entry) then return {'retry', ''} end
  end
  -- Try the drawn candidates in drawn order; those tried before the one
  -- chosen are no longer eligible and leave the line.
  local chosen, chosen_past = 0, nil
  for i, c in ipairs(w.cands) do
    local why, past = refusal(c.ident_key, c.bar_key, now, s)
    if why == nil then
      chosen, chosen_past = i, past
      break
    end
  end
  local last = chosen
  if chosen == 0 then last = #w.cands end
  skipped = {}
  for i = 1, last do
    redis.call('LREM', w.wait_key, 1, w.cands[i].entry)
    if i ~= chosen then skipped[#skipped + 1] = w.cands[i].wid end
  end
  served = ''
  if chosen > 0 then
    local c = w.cands[chosen]
    assign(w.held_key, c.ident_key, c.record_key, w.pending_key, now, slot, s,
      {bid = c.wid, nonce = 'wait', ik = c.ik, channel = w.channel, hold_ms = w.hold_ms, keep_until = w.keep_until},
      chosen_past)
    outcome, served = 'waitlist', c.wid
    redis.call('HDEL', KEYS[6], mark)
    redis.call('ZREM', KEYS[1], ARGV[1])
  elseif redis.call('LLEN', w.wait_key) > 0 then
    -- Everyone drawn was ineligible, and others still wait: draw again at
    -- the next sweep.
    redis.call('ZADD', KEYS[1], clock, ARGV[1])
    outcome = 'held'
  else
    -- Nobody asked during the round: the pool, after the random delay.
    redis.call('HDEL', KEYS[6], mark)
    local delay = tonumber(ARGV[7])
    if delay > 0 then
      redis.call('ZADD', KEYS[1], now + delay, ARGV[1])
      outcome = 'delayed'
    else
      redis.call('ZREM', KEYS[1], ARGV[1])
      redis.call('ZADD', KEYS[5], tonumber(slot), slot)
      outcome = 'pool'
    end
  end
else
  outcome, served, skipped = place(w, now, slot, s, function()
    redis.call('ZADD', KEYS[5], tonumber(slot), slot)
    return 'pool'
  end)
  if outcome ~= 'retry' then
    redis.call('ZREM', KEYS[1], ARGV[1])
    redis.call('HDEL', KEYS[6], mark)
  end
end
local reply = {outcome, served}
for _, id in ipairs(skipped) do reply[#reply + 1] = id end
return reply
