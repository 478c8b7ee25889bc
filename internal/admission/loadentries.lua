-- loadentries: make one session's live lottery entries match SQL (part of
-- reconciliation). Entries SQL has and Redis lacks hold their quota again;
-- entries Redis has and SQL lacks are forgotten, unless their commit may
-- still be in flight (pending deadline not passed). A hold that is already a
-- booking's (the draw booked the entry) is left as it is.
--
-- KEYS: 1 session entries  2 pending entries
--       then two per live entry: entry record, identity holds
--       then two per stale entry: entry record, identity holds
-- ARGV: 1 L live  2 S stale
--       then per live: entry id, hold "date|dept|week|month|session|E",
--                      record "sql|session|channel|identity key",
--                      "channel|identity key", keep-until ms
--       then per stale: entry id
-- Reply: number of stale entries forgotten.

local nl, ns = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = now_ms()
for i = 0, nl - 1 do
  local a, k = 3 + 5 * i, 3 + 2 * i
  local id = ARGV[a]
  local hold = redis.call('HGET', KEYS[k + 1], id)
  if not hold then
    redis.call('HSET', KEYS[k + 1], id, ARGV[a + 1])
  end
  redis.call('SET', KEYS[k], ARGV[a + 2], 'PXAT', ARGV[a + 4], 'NX')
  redis.call('HSET', KEYS[1], id, ARGV[a + 3])
  redis.call('ZREM', KEYS[2], id)
end
local forgotten = 0
local as, ks = 3 + 5 * nl, 3 + 2 * nl
for i = 0, ns - 1 do
  local id, k = ARGV[as + i], ks + 2 * i
  local deadline = redis.call('ZSCORE', KEYS[2], id)
  if not (deadline and tonumber(deadline) > now) then
    local hold = redis.call('HGET', KEYS[k + 1], id)
    if hold and string.sub(hold, -2) == '|E' then
      redis.call('HDEL', KEYS[k + 1], id)
    end
    redis.call('HDEL', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
    redis.call('DEL', KEYS[k])
    forgotten = forgotten + 1
  end
end
return forgotten
