-- pend: a held booking is pending again until a deadline, before SQL
-- changes it (a cancellation). If the process dies between SQL and the
-- change's Redis step, the sweeper settles the hold against SQL at the
-- deadline, as it settles a hold whose commit was cut short. A hold
-- without its record (nothing left to settle) is left alone; a later
-- deadline already there is kept.
--
-- KEYS: 1 pending holds  2 booking record
-- ARGV: 1 booking id  2 pending for (ms)
-- Reply: 1 pending, 0 no record

if redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
local deadline = now_ms() + tonumber(ARGV[2])
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not (cur and tonumber(cur) >= deadline) then
  redis.call('ZADD', KEYS[1], deadline, ARGV[1])
end
return 1
