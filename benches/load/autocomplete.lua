-- wrk script: replays queries typed character by character against GET /v1/autocomplete.
--   wrk -t2 -c64 -d30s -s benches/load/autocomplete.lua http://127.0.0.1:7700 -- QUERIES.tsv [KEY]
-- QUERIES.tsv: a header line, then tab-separated rows whose second column is the query
-- (the WANDS query.csv layout). KEY: an API key sent as a bearer token (as in search.lua). Each
-- wrk thread starts at a different offset of the replay.

local replay = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "") .. "replay.lua")

replay.install("usage: -- QUERIES.tsv [KEY]", function(line, paths)
  local query = line:match("^[^\t]*\t([^\t]*)")
  if query and #query > 0 then
    for i = 1, #query do
      -- Whole UTF-8 characters only: skip cuts inside a multi-byte sequence.
      local next_byte = query:byte(i + 1)
      if not next_byte or next_byte < 0x80 or next_byte >= 0xC0 then
        paths[#paths + 1] = "/v1/autocomplete?q=" .. replay.urlencode(query:sub(1, i))
      end
    end
  end
end)
