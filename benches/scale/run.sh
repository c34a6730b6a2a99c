#!/usr/bin/env bash
# The scale bench: generated catalogs of growing size (default 100k, 1M and 10M products, built by
# `scale_catalog` from the Home Depot, BigBasket and Myntra vocabularies), each indexed by a release
# `searchd index` and served by `searchd serve` with auth on and the response cache off. Per size it
# prints one line of figures:
#   - index: wall time and peak RSS of `searchd index` (its own report of docs/s is in the log);
#   - disk: the data dir's index and kept suggestions, in MiB;
#   - ready: seconds from starting `serve` to `/readyz` 200: the first start after indexing (which
#     builds the suggestions; the similar-products model is trained after ready, and waited for)
#     and a restart (which reads both back);
#   - search: wrk over the Home Depot dev queries (20 hits each, 4 connections): requests/s, p50, p99;
#   - autocomplete: wrk replaying the WANDS queries keystroke by keystroke (4 connections): p50, p99;
#   - rss: the server's resident memory after the load, and its peak.
# Needs wrk and ../shared/data. Files go to OUT (default a new temporary folder); a catalog already
# there is reused.
#
#   benches/scale/run.sh                     # 100k, 1M and 10M
#   SECONDS_EACH=10 benches/scale/run.sh 100000
#   REUSE_INDEX=1 OUT=scale benches/scale/run.sh 10000000   # serve an index built before
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100000 1000000 10000000)
SECONDS_EACH="${SECONDS_EACH:-20}"
PORT="${PORT:-7791}"
OUT="${OUT:-$(mktemp -d)}"
SHARED="${SEARCHD_SHARED_DATA:-../shared/data}"
BASE="http://127.0.0.1:$PORT"

command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }
[ -d "$SHARED/homedepot" ] || { echo "the shared data is missing ($SHARED)" >&2; exit 1; }

cargo build --release --locked --bin searchd --bin scale_catalog
SEARCHD=target/release/searchd
zcat "$SHARED/homedepot/judgments-dev.csv.gz" > "$OUT/judgments-dev.csv"
QUERIES="$SHARED/wands_queries_only/query.csv"

server=""
stop() { [ -z "$server" ] || { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; server=""; }; }
trap stop EXIT

# Starts the server on DATA; READY is the seconds it took to answer `/readyz` with 200.
start() {
    local begin now
    begin=$(date +%s.%N)
    SEARCHD_CACHE__ENABLED=false SEARCHD_HTTP__LISTEN="127.0.0.1:$PORT" "$SEARCHD" --data-dir "$DATA" serve \
        >> "$OUT/serve-$N.log" 2>&1 &
    server=$!
    until curl -sf "$BASE/readyz" > /dev/null; do
        kill -0 "$server" 2>/dev/null || { echo "the server stopped; see $OUT/serve-$N.log" >&2; exit 1; }
        sleep 0.05
    done
    now=$(date +%s.%N)
    READY=$(echo "$now - $begin" | bc)
}

# wrk's summary line `latency p50 X ms, p99 Y ms, …` and its requests/s.
load() {
    local script=$1 input=$2 result
    result=$(wrk -t2 -c4 -d"${SECONDS_EACH}s" -s "benches/load/$script" "$BASE" -- "$input" "$KEY")
    echo "$(echo "$result" | awk '/Requests\/sec/ {print $2}') req/s, $(echo "$result" | grep '^latency' | cut -d, -f1,2)," \
        "$(echo "$result" | grep -o 'errors (status) [0-9]*')"
}

for N in "${SIZES[@]}"; do
    CATALOG="$OUT/products-$N.jsonl"
    [ -s "$CATALOG" ] || target/release/scale_catalog "$N" 42 > "$CATALOG"
    DATA="$OUT/data-$N"
    if [ -n "${REUSE_INDEX:-}" ] && [ -d "$DATA/index" ] && [ -s "$OUT/index-$N.time" ]; then
        # The index of an earlier run (and its figures); what a first start builds is dropped.
        rm -rf "$DATA/suggestions" "$DATA/models" "$DATA/keys.json"
    else
        rm -rf "$DATA"
        /usr/bin/time -f "%e %M" -o "$OUT/index-$N.time" "$SEARCHD" --data-dir "$DATA" index --input "$CATALOG" \
            > "$OUT/index-$N.log" 2>&1
    fi
    read -r index_s index_kb < "$OUT/index-$N.time"
    index_mib=$(du -sm "$DATA/index" | cut -f1)
    KEY=$("$SEARCHD" --data-dir "$DATA" keys create --name scale --scopes search --rate 100000 | tail -1)
    start
    first=$READY
    # The first start trains the similar-products model after ready: wait for it to be saved, so
    # that the restart loads it (as a node restarting in production does) and no training runs
    # beside the load.
    until [ -s "$DATA/models/similar/CURRENT" ]; do sleep 1; done
    stop
    # The first start built the suggestions and kept them for the next.
    suggestions_mib=$(du -sm "$DATA/suggestions" | cut -f1)
    start
    ready=$READY
    curl -sf "$BASE/v1/products/search?q=drill" -H "authorization: Bearer $KEY" > /dev/null
    search=$(load search.lua "$OUT/judgments-dev.csv")
    autocomplete=$(load autocomplete.lua "$QUERIES")
    rss=$(awk '/VmRSS/ {rss=$2} /VmHWM/ {hwm=$2} END {printf "%d MiB (peak %d MiB)", rss/1024, hwm/1024}' \
        "/proc/$server/status")
    stop
    echo "$N products: index ${index_s} s (peak RSS $((index_kb / 1024)) MiB); disk: index ${index_mib} MiB," \
        "suggestions ${suggestions_mib} MiB; ready: first start ${first} s, restart ${ready} s;" \
        "search: ${search}; autocomplete: ${autocomplete}; serving RSS ${rss}"
done
