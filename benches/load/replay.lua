-- What the wrk scripts of this folder share (loaded with dofile from beside them): reading a
-- file of queries into request paths, replaying them in turn from a random offset per wrk
-- thread with an optional API key (`-- FILE [KEY]`, sent as a bearer token), and a summary line
-- of requests, errors and latency percentiles.

local M = {}

function M.urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- Installs wrk's init, request and done. `add(line, paths)` appends the paths of one line of the
-- file after its header; `usage` is the error when the file cannot be opened.
function M.install(usage, add)
  local paths = {}
  local counter = 0
  local key = nil

  function init(args)
    local file = assert(io.open(args[1], "r"), usage)
    key = args[2]
    local first = true
    for line in file:lines() do
      if not first then add(line, paths) end
      first = false
    end
    file:close()
    counter = math.random(#paths)
  end

  function request()
    counter = counter % #paths + 1
    local headers = {}
    if key then headers["Authorization"] = "Bearer " .. key end
    return wrk.format("GET", paths[counter], headers)
  end

  done = function(summary, latency, requests)
    io.write(string.format("requests %d, errors (status) %d, errors (socket) %d\n",
      summary.requests, summary.errors.status,
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
    io.write(string.format("latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  end
end

return M
