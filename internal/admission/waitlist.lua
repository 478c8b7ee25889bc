-- waitlist: bring a session's waitlist in line: remove closed entries, then
-- append entries that are missing, in the order given. Joining is the same
-- call with one entry to add. Entries are "waitlist id|identity key".
--
-- KEYS: 1 waitlist
-- ARGV: 1 D entries to remove  2.. D entries, then entries to add
-- Reply: the length of the waitlist and the 1-based position of the last
-- entry added (0 if none was added or given).

local nd = tonumber(ARGV[1])
for i = 2, nd + 1 do
  redis.call('LREM', KEYS[1], 0, ARGV[i])
end
local pos = 0
for i = nd + 2, #ARGV do
  local at = redis.call('LPOS', KEYS[1], ARGV[i])
  if not at then
    redis.call('RPUSH', KEYS[1], ARGV[i])
    at = redis.call('LLEN', KEYS[1]) - 1
  end
  pos = at + 1
end
return {redis.call('LLEN', KEYS[1]), pos}
