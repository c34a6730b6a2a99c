#!/usr/bin/env bash
# Steady-rate HTTP load test on loopback: the Home Depot catalog (54,667 products) and 5,000 vendors
# in GeoNames cities, served by a release `searchd serve` with auth on (a search-scoped key) and
# the default cache; oha sends a fixed mix at constant rates for MINUTES minutes (default 10):
# searches (four shapes per judged query), autocomplete keystrokes (every prefix of each query)
# and vendor matches (ten requests for information). Per minute: requests, p50 and p99 latency
# per stream (oha, with latency correction), and the server's RSS. Needs oha
# (`cargo install oha`) and ../shared/data.
#
#   benches/load/steady.sh                       # 10 minutes at 200 + 400 + 40 requests/s
#   MINUTES=1 SEARCH_QPS=100 benches/load/steady.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

MINUTES="${MINUTES:-10}"
SEARCH_QPS="${SEARCH_QPS:-200}"
AUTOCOMPLETE_QPS="${AUTOCOMPLETE_QPS:-400}"
MATCH_QPS="${MATCH_QPS:-40}"
PORT="${PORT:-7790}"
OHA="${OHA:-oha}"
OUT="${OUT:-$(mktemp -d)}"
SHARED="${SEARCHD_SHARED_DATA:-../shared/data}"
BASE="http://127.0.0.1:$PORT"

command -v "$OHA" >/dev/null || { echo "oha not found: cargo install oha (or set OHA=...)" >&2; exit 1; }
[ -d "$SHARED/homedepot" ] || { echo "the shared data is missing ($SHARED)" >&2; exit 1; }

cargo build --release --locked --bin searchd
SEARCHD=target/release/searchd
DATA="$OUT/data"
mkdir -p "$DATA"
echo "== inputs and indexes in $OUT"
python3 benches/load/steady.py inputs "$OUT" "$BASE"
"$SEARCHD" --data-dir "$DATA" index --input "$SHARED/homedepot/products.csv.gz" --map id=product_uid,title=title --lang en
"$SEARCHD" --data-dir "$DATA" index --kind vendors --input "$OUT/vendors.jsonl"
KEY="$("$SEARCHD" --data-dir "$DATA" keys create --scopes search --name load-test)"

echo "== serving on $BASE"
SEARCHD_HTTP__LISTEN="127.0.0.1:$PORT" SEARCHD_RATE_LIMIT__ENABLED=false SEARCHD_LOG__LEVEL=warn \
    "$SEARCHD" --data-dir "$DATA" serve >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
    curl -fs "$BASE/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fs "$BASE/readyz"; echo

echo "== $MINUTES minutes at $SEARCH_QPS search + $AUTOCOMPLETE_QPS autocomplete + $MATCH_QPS match requests/s"
: >"$OUT/rss.tsv"
for minute in $(seq 1 "$MINUTES"); do
    common=(--no-tui --latency-correction -z 60s --output-format json -H "x-api-key: $KEY")
    "$OHA" "${common[@]}" -q "$SEARCH_QPS" -c 32 --urls-from-file "$OUT/search.txt" >"$OUT/oha-search-$minute.json" &
    a=$!
    "$OHA" "${common[@]}" -q "$AUTOCOMPLETE_QPS" -c 32 --urls-from-file "$OUT/autocomplete.txt" \
        >"$OUT/oha-autocomplete-$minute.json" &
    b=$!
    "$OHA" "${common[@]}" -q "$MATCH_QPS" -c 8 -m POST -T application/json \
        -D "$OUT/match-$(((minute - 1) % 10)).json" "$BASE/v1/vendors/match" >"$OUT/oha-match-$minute.json" &
    c=$!
    wait $a $b $c
    echo "$minute $(awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status")" >>"$OUT/rss.tsv"
    echo "minute $minute done: RSS $(tail -1 "$OUT/rss.tsv" | cut -d' ' -f2) KiB"
done
curl -fs "$BASE/metrics" >"$OUT/metrics.txt"
echo "== results ($OUT)"
python3 benches/load/steady.py report "$OUT"
echo "peak RSS: $(awk '/^VmHWM/ {print $2 / 1024 " MiB"}' "/proc/$SERVER/status")"
grep -E '^searchd_cache_lookups_total\{backend="local"' "$OUT/metrics.txt" || true
