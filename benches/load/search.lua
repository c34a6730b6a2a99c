-- wrk script: product searches, the Home Depot dev queries one after another, 20 hits each.
--   zcat ../shared/data/homedepot/judgments-dev.csv.gz > judgments-dev.csv
--   wrk -t2 -c4 -d30s --latency -s benches/load/search.lua http://127.0.0.1:7700 -- judgments-dev.csv KEY
-- judgments-dev.csv: a header line, then comma-separated rows whose first column is the query
-- (the judgments layout; each distinct query once). KEY: an API key sent as a bearer token
-- (create one with `searchd keys create --name load --scopes search --rate 100000` so that the
-- load is held to the key's own rate, not to the per-IP storefront limit). Each wrk thread
-- starts at a different offset of the query list.

local replay = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "") .. "replay.lua")
local seen = {}

replay.install("usage: -- QUERIES.csv [KEY]", function(line, paths)
  local query = line:match('^"([^"]*)"') or line:match("^([^,]*)")
  if query and #query > 0 and not seen[query] then
    seen[query] = true
    paths[#paths + 1] = "/v1/products/search?per_page=20&q=" .. replay.urlencode(query)
  end
end)
