-- movepool: move up to n free slots from one channel pool to another (an
-- admin moving an unsold pool), or exactly the given slots back.
--
-- KEYS: 1 session meta  2 from pool  3 to pool
-- ARGV: 1 n  2 to channel  3 release ms for the to channel if it has none
--       4.. exact slots to move (when given, n is ignored)
-- Reply: the slots moved.

local moved = {}
if #ARGV > 3 then
  for i = 4, #ARGV do
    if redis.call('ZREM', KEYS[2], ARGV[i]) == 1 then
      redis.call('ZADD', KEYS[3], tonumber(ARGV[i]), ARGV[i])
      moved[#moved + 1] = ARGV[i]
    end
  end
else
  local popped = redis.call('ZPOPMAX', KEYS[2], tonumber(ARGV[1]))
  for i = 1, #popped, 2 do
    redis.call('ZADD', KEYS[3], tonumber(popped[i]), popped[i])
    moved[#moved + 1] = popped[i]
  end
end
if #moved > 0 then
  redis.call('HSETNX', KEYS[1], 'rel:' .. ARGV[2], ARGV[3])
end
return moved
