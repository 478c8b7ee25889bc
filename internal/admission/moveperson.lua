-- moveperson: a document the desk linked to a person (LinkIdentities)
-- counts as that person from now on. Its holds (each booking's and lottery
-- entry's field of the identity-holds hash) join the person's, so the
-- quotas and the one-per-session rules count them together; its bar becomes
-- the person's when it ends later. Idempotent: a repeat finds nothing left
-- under the document. Run after the link commits in SQL, whose rows now
-- name the person (a cancellation releases the person's field).
--
-- KEYS: 1 the document's holds  2 the person's holds  3 the document's bar
--       4 the person's bar
-- Reply: how many holds moved.

local moved = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  redis.call('HSET', KEYS[2], fields[i], fields[i + 1])
  moved = moved + 1
end
redis.call('DEL', KEYS[1])
local bar = redis.call('GET', KEYS[3])
if bar then
  local mine = redis.call('GET', KEYS[4])
  if not mine or tonumber(mine) < tonumber(bar) then
    redis.call('SET', KEYS[4], bar)
    redis.call('PEXPIREAT', KEYS[4], tonumber(bar))
  end
  redis.call('DEL', KEYS[3])
end
return moved
