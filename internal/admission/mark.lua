-- mark: the mark that a hospital's state in Redis is whole, and the claim
-- of the one instance that reloads it from SQL. reserve.lua admits nothing
-- while the mark is missing, so a Redis that lost its data (restarted empty,
-- flushed) refuses bookings instead of judging them on an empty state.
--
-- KEYS: 1 the mark  2 the reload claim
-- ARGV: 1 'begin' or 'end'  2 the claim's token
--       begin: 3 claim time-to-live (ms)
--       end:   3 the mark's value ("<run id>|<unix ms>")
-- Reply: 1 done; 0 another instance holds the claim (begin), or the claim
-- is gone, so Redis lost data during the reload (end).

if ARGV[1] == 'begin' then
  if redis.call('EXISTS', KEYS[2]) == 1 then
    return 0
  end
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return 1
end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('DEL', KEYS[2])
return 1
