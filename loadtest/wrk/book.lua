-- wrk script for the throughput benchmark (loadtest/run -scenario throughput):
-- every request is a booking attempt by the next patient of the input file,
-- each thread starting at its own offset. Input lines: "token patient_id
-- session_id client_ip". wrk is closed-loop: -c connections, each sending
-- its next request when the last was answered.
-- With a second argument "patients", every request is the patient opening
-- the app instead (GET /v1/patients): the waiting room before a release,
-- which warms the service's patient cache as logins do.
local lines, n, i = {}, 0, 0
local threads = {}
local waiting = false

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local token, patient, session, ip = line:match("^(%S+) (%S+) (%S+) (%S+)$")
    if token then
      n = n + 1
      lines[n] = {
        headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json",
                    ["X-Forwarded-For"] = ip },
        body = '{"session_id":"' .. session .. '","patient_id":"' .. patient .. '"}',
      }
    end
  end
  i = (id or 0) * 7919
  waiting = args[2] == "patients"
end

function request()
  i = i + 1
  local l = lines[(i % n) + 1]
  if waiting then
    return wrk.format("GET", "/v1/patients", l.headers)
  end
  return wrk.format("POST", "/v1/bookings", l.headers, l.body)
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format('WRK {"requests": %d, "seconds": %.3f, "rps": %.1f, "non2xx": %d, "socket_errors": %d, ' ..
    '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, secs, summary.requests / secs, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
