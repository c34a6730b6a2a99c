-- wrk script: product searches, the Home Depot dev queries one after another, 20 hits each.
--   zcat ../shared/data/homedepot/judgments-dev.csv.gz > judgments-dev.csv
--   wrk -t2 -c4 -d30s --latency -s benches/load/search.lua http://127.0.0.1:7700 -- judgments-dev.csv KEY
-- judgments-dev.csv: a header line, then comma-separated rows whose first column is the query
-- (the judgments layout; each distinct query once). KEY: an API key sent as a bearer token
-- (create one with `searchd keys create --name load --scopes search --rate 100000` so that the
-- load is held to the key's own rate, not to the per-IP storefront limit). Each wrk thread
-- starts at a different offset of the query list.

local paths = {}
local counter = 0
local key = nil

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  local file = assert(io.open(args[1], "r"), "usage: -- QUERIES.csv [KEY]")
  key = args[2]
  local seen = {}
  local first = true
  for line in file:lines() do
    if not first then
      local query = line:match('^"([^"]*)"') or line:match("^([^,]*)")
      if query and #query > 0 and not seen[query] then
        seen[query] = true
        paths[#paths + 1] = "/v1/products/search?per_page=20&q=" .. urlencode(query)
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
