#!/usr/bin/env bash
# The storefront query (a page of 50 products with one customer's resolved
# prices) and `{ __typename }` with wrk, against a release binary, on a copy
# of an existing benchmark database (made by bench/storefront.sh):
#
#   bench/wrk-storefront.sh BIN LABEL        (needs wrk: apt-get install wrk)
#   BENCH_DB  default /tmp/pricegraph-store.db; copied, so that binaries of
#             different migrations can be compared on the same rows
#   BENCH_PRICE_FIELDS  what the page selects on each resolved price; default
#             `amount { amount currencyCode } source` (a sale badge adds
#             `priceList { id name } customerGroup { id name }`)
#   BENCH_SUBSCRIPTIONS=PYTHON  measure with 1,000 price subscriptions open
#             (100 shoppers): bench/subscriptions.py run by PYTHON (one with
#             `websockets` installed, see that script), which first measures
#             write-to-last-message times, then holds the subscriptions open
#             (a write every second) while wrk runs
set -euo pipefail
BIN=$1
LABEL=$2
SOURCE=${BENCH_DB:-/tmp/pricegraph-store.db}
ADDR=127.0.0.1:18091
WORK=$(mktemp -d)
trap 'kill "$PID" ${SUBS:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT
cp "$SOURCE" "$WORK/run.db"
"$BIN" serve --database-url "sqlite://$WORK/run.db?mode=rwc" --listen $ADDR >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -sf "http://$ADDR/health" >/dev/null && break; sleep 0.1; done
CUSTOMER=$(curl -s -H 'content-type: application/json' -d '{"query":"{ customers(first: 1) { edges { node { id } } } }"}' \
    "http://$ADDR/graphql" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["customers"]["edges"][0]["node"]["id"])')
DEFAULT_FIELDS='amount { amount currencyCode } source'
FIELDS=${BENCH_PRICE_FIELDS:-$DEFAULT_FIELDS}
QUERY="{ products(first: 50) { edges { node { id resolvedPrice(customerId: \\\\\"$CUSTOMER\\\\\", currency: \\\\\"USD\\\\\") { $FIELDS } } } } }"
script() { # file, body
    printf 'wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\nwrk.body = %s\n' "'$2'" >"$1"
}
script "$WORK/store.lua" "{\"query\":\"$QUERY\"}"
script "$WORK/typename.lua" '{"query":"{ __typename }"}'
wrk -t2 -c64 -d3s -s "$WORK/store.lua" "http://$ADDR/graphql" >/dev/null
if [ -n "${BENCH_SUBSCRIPTIONS:-}" ]; then
    "$BENCH_SUBSCRIPTIONS" "$(dirname "$0")/subscriptions.py" "http://$ADDR/graphql" --hold 600 --hold-write-every 1 \
        >"$WORK/subscriptions.log" 2>&1 &
    SUBS=$!
    until grep -qs holding "$WORK/subscriptions.log"; do
        kill -0 "$SUBS" 2>/dev/null || { cat "$WORK/subscriptions.log" >&2; exit 1; }
        sleep 0.5
    done
    sed 's/^/  /' "$WORK/subscriptions.log"
fi
measure() { # connections, script
    local threads=$(( $1 < 2 ? 1 : 2 ))
    wrk -t$threads -c"$1" -d6s --latency -s "$2" "http://$ADDR/graphql" | awk '/Requests\/sec/{r=$2} / 99%/{p=$2} END{print r " req/s, p99 " p}'
}
python3 "$(dirname "$0")/cache_stats.py" "http://$ADDR" --save "$WORK/cache-before.json"
for connections in 64 1; do
    echo "$LABEL c=$connections storefront: $(measure $connections "$WORK/store.lua"); typename: $(measure $connections "$WORK/typename.lua")"
done
echo "$LABEL cache during the measured runs:"
python3 "$(dirname "$0")/cache_stats.py" "http://$ADDR" --since "$WORK/cache-before.json" | sed 's/^/  /'
