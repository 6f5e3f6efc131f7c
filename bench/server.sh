#!/usr/bin/env bash
# Load-tests a release build of pricegraph on a seeded SQLite file with oha.
# Usage: bench/server.sh [seconds per run]   (needs `cargo install oha`)
# Prints requests/s and latencies per query and connection count, and the
# server's peak resident memory. See BENCHMARKS.md for recorded results.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
BIN=${PRICEGRAPH_BIN:-target/release/pricegraph}
DB=${BENCH_DB:-/tmp/pricegraph-bench.db}
ADDR=127.0.0.1:18088
URL="sqlite://$DB?mode=rwc"

[ -n "${PRICEGRAPH_BIN:-}" ] || cargo build --release --quiet
if [ ! -f "$DB" ]; then
    "$BIN" seed --database-url "$URL" --demo --customers 100000 --groups 200 --price-lists 2000 --products 1000
fi

"$BIN" serve --database-url "$URL" --listen "$ADDR" >/tmp/pricegraph-bench.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://$ADDR/health" >/dev/null && break; sleep 0.2; done

run() { # name, connections, query
    local body
    body=$(printf '{"query":"%s"}' "$3")
    printf '%-14s c=%-3s ' "$1" "$2"
    oha --no-tui -z "${DURATION}s" -c "$2" -m POST -H 'content-type: application/json' -d "$body" \
        --output-format json "http://$ADDR/graphql" |
        python3 -c 'import json,sys; r=json.load(sys.stdin); s=r["summary"]; p=r["latencyPercentiles"]; c=r.get("statusCodeDistribution",{}); print("%8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  success %.4f  status %s" % (s["requestsPerSec"], p["p50"]*1000, p["p99"]*1000, s["successRate"], c))'
}

TYPENAME='{ __typename }'
FLAT='{ customers(first: 50) { edges { node { id email groups { name } } } } }'
TREE='{ customers(first: 50) { edges { node { groups { priceLists { priority priceList { name } } } organization { name } typeGroup { name } } } } }'
for c in 64 1; do
    run typename "$c" "$TYPENAME"
    run customers "$c" "$FLAT"
    run customer-tree "$c" "$TREE"
done
echo "peak RSS of the server: $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}')"
