-- wrk script: replays queries typed character by character against GET /v1/autocomplete.
--   wrk -t2 -c64 -d30s -s benches/load/autocomplete.lua http://127.0.0.1:7700 -- QUERIES.tsv [KEY]
-- QUERIES.tsv: a header line, then tab-separated rows whose second column is the query
-- (the WANDS query.csv layout). KEY: an API key sent as a bearer token (as in search.lua). Each
-- wrk thread starts at a different offset of the replay.

local paths = {}
local counter = 0
local key = nil

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  local file = assert(io.open(args[1], "r"), "usage: -- QUERIES.tsv [KEY]")
  key = args[2]
  local first = true
  for line in file:lines() do
    if not first then
      local query = line:match("^[^\t]*\t([^\t]*)")
      if query and #query > 0 then
        for i = 1, #query do
          -- Whole UTF-8 characters only: skip cuts inside a multi-byte sequence.
          local next_byte = query:byte(i + 1)
          if not next_byte or next_byte < 0x80 or next_byte >= 0xC0 then
            paths[#paths + 1] = "/v1/autocomplete?q=" .. urlencode(query:sub(1, i))
          end
        end
      end
    end
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
