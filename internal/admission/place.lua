-- place: a slot that waited in the hospital's delayed set (a returned slot
-- whose random delay is over, or one the desk reissues now) goes to the first
-- eligible identity on its session's waitlist, else to the target pool.
--
-- KEYS: 1 delayed slots of the hospital  2 session holds  3 pending holds
--       4 waitlist  5 target pool
--       6.. three per waitlist candidate: identity holds, bar, booking record
-- ARGV: 1 delayed member "session|slot|channel"  2 only if due (1/0)
--       3 channel the slot serves now  4 hold ms  5 keep-until ms
--       6..14 session: sid, date, dept, week, month, today, per-day,
--       per-week, per-month  15 candidates n  16.. candidate entries
-- Reply: {outcome (gone, notdue, pool, waitlist, retry), waitlist id or '',
--         skipped waitlist ids...}

local now = now_ms()
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due then
  return {'gone', ''}
end
if ARGV[2] == '1' and tonumber(due) > now then
  return {'notdue', ''}
end
local slot = string.match(ARGV[1], '^[^|]*|([^|]*)|')
if redis.call('HEXISTS', KEYS[2], slot) == 1 then
  redis.call('ZREM', KEYS[1], ARGV[1]) -- held again (reconciled): nothing to place
  return {'gone', ''}
end
local s = session_args(6)
local w = {wait_key = KEYS[4], held_key = KEYS[2], pending_key = KEYS[3], channel = ARGV[3],
  hold_ms = tonumber(ARGV[4]), keep_until = ARGV[5], cands = candidates(tonumber(ARGV[15]), 16, 6)}
local outcome, served, skipped = place(w, now, slot, s, function()
  redis.call('ZADD', KEYS[5], tonumber(slot), slot)
  return 'pool'
end)
if outcome ~= 'retry' then
  redis.call('ZREM', KEYS[1], ARGV[1])
end
local reply = {outcome, served}
for _, id in ipairs(skipped) do reply[#reply + 1] = id end
return reply
