#!/usr/bin/env bash
# Load-tests the storefront query (a page of 50 products, each with the
# resolved price of one of 1,000 customers, a different one per request)
# against a release build, with the read cache on and off, and
# `{ __typename }` on the same server each time.
#
# Usage: bench/storefront.sh [seconds per run]        (needs `cargo install oha`)
#   BENCH_DATABASE_URL  default sqlite:///tmp/pricegraph-store.db?mode=rwc;
#                       a postgres:// URL (of an empty database) benchmarks PostgreSQL
#   BENCH_REDIS_URL     e.g. redis://127.0.0.1:6379/: the cached runs use Redis
#                       too, and a third run ("redis") keeps nothing in process
#                       (capacity 0), so that every read goes to Redis
# The data set (100,000 customers, 50,000 products) is generated on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
BIN=${PRICEGRAPH_BIN:-target/release/pricegraph}
URL=${BENCH_DATABASE_URL:-sqlite:///tmp/pricegraph-store.db?mode=rwc}
ADDR=127.0.0.1:18090
BODIES=$(mktemp)
SERVER=

[ -n "${PRICEGRAPH_BIN:-}" ] || cargo build --release --quiet

REDIS=${BENCH_REDIS_URL:-}
PREFIX="bench:$$:"
start() { # cache: on | redis | off
    local args=(--cache on)
    case $1 in
        off) args=(--cache off) ;;
        redis) args+=(--cache-max-mib 0) ;;
    esac
    if [ -n "$REDIS" ] && [ "$1" != off ]; then args+=(--redis-url "$REDIS" --redis-key-prefix "$PREFIX"); fi
    "$BIN" serve --database-url "$URL" --listen "$ADDR" "${args[@]}" >/tmp/pricegraph-store.log 2>&1 &
    SERVER=$!
    for _ in $(seq 1 100); do curl -sf "http://$ADDR/health" >/dev/null && return 0; sleep 0.1; done
    echo "the server did not start; see /tmp/pricegraph-store.log" >&2
    exit 1
}
stop() {
    kill "$SERVER"
    wait "$SERVER" 2>/dev/null || true
}
forget() { # this run's Redis keys
    [ -z "$REDIS" ] || redis-cli -u "$REDIS" --scan --pattern "${PREFIX}*" | xargs -r redis-cli -u "$REDIS" del >/dev/null
}
trap '[ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true; rm -f "$BODIES"; forget' EXIT

run() { # name, connections, oha body arguments...
    local name=$1 connections=$2
    shift 2
    printf '%-24s c=%-3s ' "$name" "$connections"
    oha --no-tui -z "${DURATION}s" -c "$connections" -m POST -H 'content-type: application/json' "$@" \
        --output-format json "http://$ADDR/graphql" |
        python3 -c 'import json,sys; r=json.load(sys.stdin); s=r["summary"]; p=r["latencyPercentiles"]; print("%8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  success %.4f" % (s["requestsPerSec"], p["p50"]*1000, p["p99"]*1000, s["successRate"]))'
}

start off
count=$(curl -sf -H 'content-type: application/json' -d '{"query":"{ customers(first: 1) { totalCount } }"}' \
    "http://$ADDR/graphql" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["customers"]["totalCount"])')
if [ "$count" -lt 100000 ]; then
    stop
    "$BIN" seed --database-url "$URL" --demo --customers 100000 --groups 200 --price-lists 2000 --products 50000
    start off
fi
python3 bench/storefront_bodies.py "http://$ADDR/graphql" >"$BODIES"
stop

MODES="on off"
[ -z "$REDIS" ] || MODES="on redis off"
for cache in $MODES; do
    start "$cache"
    # Warm up (with the cache on, this fills it for these customers).
    oha --no-tui -z 3s -c 8 -m POST -H 'content-type: application/json' -Z "$BODIES" "http://$ADDR/graphql" >/dev/null
    for c in 64 1; do
        run "storefront, cache $cache" "$c" -Z "$BODIES"
        run "typename, cache $cache" "$c" -d '{"query":"{ __typename }"}'
    done
    echo "peak RSS of the server: $(grep VmHWM /proc/"$SERVER"/status | awk '{print $2, $3}')"
    stop
done
