-- release: give a hold back (failed commit, cancellation, abandoned hold).
-- Idempotent: the slot returns to the pool only if this booking still holds it.
--
-- KEYS: 1 booking record  2 session holds  3 identity holds  4 free pool
--       5 pending holds
-- ARGV: 1 booking id  2 slot  3 return slot (1/0)  4 forget record (1/0)
--       5 only if the pending deadline passed (1/0)
-- Reply: 1 released, 0 nothing held, -1 skipped (commit may be in flight).

if ARGV[5] == '1' then
  local deadline = redis.call('ZSCORE', KEYS[5], ARGV[1])
  if deadline then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    if tonumber(deadline) > now then
      return -1
    end
  end
end

local released = 0
if redis.call('HGET', KEYS[2], ARGV[2]) == ARGV[1] then
  redis.call('HDEL', KEYS[2], ARGV[2])
  if ARGV[3] == '1' then
    redis.call('ZADD', KEYS[4], tonumber(ARGV[2]), ARGV[2])
  end
  released = 1
end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
if ARGV[4] == '1' then
  redis.call('DEL', KEYS[1])
end
return released
