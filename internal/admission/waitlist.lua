-- waitlist: bring a session's waitlist in line: the rounds that have ended
-- join the line, closed entries are removed, then missing entries are added
-- in the order given. Joining is the same call with one entry to add.
--
-- An entry is "round end ms|key|waitlist id|identity key". With a round end
-- after clock it waits in the session's joins (zset: score = the round's
-- end, member = "key|waitlist id|identity key", key 16 hex digits) until its
-- round ends, and the round's end is raised to it; with 0 (a lottery loser,
-- no rounds) or a past end it goes to the end of the line at once. The line
-- itself holds "waitlist id|identity key".
--
-- KEYS: 1 waitlist  2 joins of open rounds  3 the session's round (hash: end)
-- ARGV: 1 the service's clock (unix ms)  2 D entries to remove  3.. D
--       entries, then entries to add
-- Reply: the length of the line, the 1-based position in it of the last
-- entry added (0 if none, or if it waits for its round to end).

local clock = tonumber(ARGV[1])
close_rounds(KEYS[2], KEYS[1], clock)
local function parts(a)
  local e, key, entry = string.match(a, '^([^|]*)|([^|]*)|(.*)$')
  return tonumber(e), key .. '|' .. entry, entry
end
local nd = tonumber(ARGV[2])
for i = 3, nd + 2 do
  local _, member, entry = parts(ARGV[i])
  redis.call('ZREM', KEYS[2], member)
  redis.call('LREM', KEYS[1], 0, entry)
end
local pos = 0
for i = nd + 3, #ARGV do
  local e, member, entry = parts(ARGV[i])
  local at = redis.call('LPOS', KEYS[1], entry)
  pos = 0
  if at then
    pos = at + 1
  elseif e > clock then
    redis.call('ZADD', KEYS[2], e, member)
    local cur = redis.call('HGET', KEYS[3], 'end')
    if not cur or tonumber(cur) < e then
      redis.call('HSET', KEYS[3], 'end', e)
      redis.call('PEXPIRE', KEYS[3], e - clock + 86400000)
    end
  else
    redis.call('RPUSH', KEYS[1], entry)
    pos = redis.call('LLEN', KEYS[1])
  end
end
return {redis.call('LLEN', KEYS[1]), pos}
