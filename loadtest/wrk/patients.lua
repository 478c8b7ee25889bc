-- wrk script for the throughput benchmark's lottery target: before it is
-- measured, every patient opens the app once (GET /v1/patients), as the
-- release minute's waiting room does, so the service's patient cache is warm
-- as it is for logged-in patients. Input lines as for book.lua.
local lines, n, i = {}, 0, 0
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local token, _, _, ip = line:match("^(%S+) (%S+) (%S+) (%S+)$")
    if token then
      n = n + 1
      lines[n] = { ["Authorization"] = "Bearer " .. token, ["X-Forwarded-For"] = ip }
    end
  end
  i = (id or 0) * 7919
end

function request()
  i = i + 1
  return wrk.format("GET", "/v1/patients", lines[(i % n) + 1])
end
