-- soldout: is a pool still sold out, as reserve.lua would find it for any
-- attempt that passes the person's own checks? The fast reject path asks it
-- to renew a remembered sold_out (booking/fastreject.go) instead of letting
-- a whole attempt through. It writes nothing.
--
-- KEYS: 1 session meta  2 free pool of the channel  3 the hospital's mark
-- ARGV: 1 channel
-- Reply: 1 when the state is whole, the channel released (and, a lottery,
-- drawn) and its pool empty; else 0 (the attempts go to admission again).

if redis.call('EXISTS', KEYS[3]) == 0 then
  return 0
end
local rel = redis.call('HGET', KEYS[1], 'rel:' .. ARGV[1])
if not rel or now_ms() < tonumber(rel) then
  return 0
end
if redis.call('HEXISTS', KEYS[1], 'lot:' .. ARGV[1]) == 1
    and redis.call('HEXISTS', KEYS[1], 'drawn:' .. ARGV[1]) == 0 then
  return 0
end
if redis.call('ZCARD', KEYS[2]) > 0 then
  return 0
end
return 1
