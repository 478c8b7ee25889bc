-- unenter: forget lottery entries of one session (withdrawn, failed to
-- commit, decided by the draw, stale) and give their quota back, unless the
-- hold is now a booking's: a winner's hold, turned into its booking's by
-- reserve under the same id, is never touched (only an 'E' hold is).
--
-- KEYS: 1 session entries  2 pending entries
--       3.. two per entry: entry record, identity holds
-- ARGV: 1 only if the pending deadline passed (1/0)  2 keep the hold (1/0)
--       3.. the entry ids
-- Reply: the ids left alone because their commit may still be in flight.

local now = now_ms()
local skipped = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local k = 3 + 2 * (i - 3)
  local deadline = nil
  if ARGV[1] == '1' then
    deadline = redis.call('ZSCORE', KEYS[2], id)
  end
  if deadline and tonumber(deadline) > now then
    skipped[#skipped + 1] = id
  else
    if ARGV[2] ~= '1' then
      local hold = redis.call('HGET', KEYS[k + 1], id)
      if hold and string.sub(hold, -2) == '|E' then
        redis.call('HDEL', KEYS[k + 1], id)
      end
    end
    redis.call('HDEL', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
    redis.call('DEL', KEYS[k])
  end
end
return skipped
