#!/usr/bin/env bash
# The growth curve on PostgreSQL: how the storefront, the customer tree, a
# 1,000-row `upsertPrices`, `pricingHealth` and the server's memory change
# as customers, products or price lists grow. For each scale point: a fresh
# database, seeded (timed), a server, wrk; the database is dropped after
# the point, also when the script fails or is stopped.
#
#   bench/growth.sh [BIN]        (needs wrk: apt-get install -y wrk)
#
#   BIN      release binary, default target/release/pricegraph
#   POINTS   scale points to run, by name, default all (in this order):
#              c10k c100k c1m c10m   customers at 50k products, 2,000 lists
#              p10k p100k p1m        products at 100k customers, 2,000 lists
#              l200 l20000           lists at 100k customers, 50k products
#            (c100k is also the 100k-product and the 2,000-list point)
#   C64 C1   seconds of each wrk run at 64 and at 1 connection (10, 8)
#   HEALTH   sequential pricingHealth requests timed with curl (3); its
#            p50 column is their median, its p99 column the slowest
#   BENCH_GROUPS  generated pricing groups (200)
#   OUT      results file, default bench/results/growth-<UTC date>.tsv; the
#            markdown table goes beside it (.md)
#   PGHOST PGPORT  the PostgreSQL server (127.0.0.1 5432, user postgres)
#   EXPLAIN  points at which one request of each kind is sent once more to
#            a cache-off server logging its SQL (RUST_LOG=pricegraph::sql=
#            trace), with PostgreSQL's auto_explain logging every
#            statement's plan (EXPLAIN ANALYZE, buffers): both logs go
#            beside OUT. Default: every point. PGLOG is PostgreSQL's log
#            file (/var/log/postgresql/postgresql-15-main.log)
#
# Per point: `cold` is a server with `--cache off` (every request reads
# the database); `warm` a server with the cache on, after one pass over the
# 1,000 customers. The customer tree, the mutation, pricingHealth and
# `{ __typename }` run on the warm server; the mutation last (it writes).
# Peak memory is each server's VmHWM at its end. Servers get a 120 s
# request timeout, so that a slow pricingHealth is measured, not cut.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-target/release/pricegraph}")
ALL_POINTS="c10k c100k c1m c10m p10k p100k p1m l200 l20000"
POINTS=${POINTS:-$ALL_POINTS}
C64=${C64:-10}
C1=${C1:-8}
HEALTH=${HEALTH:-3}
EXPLAIN=${EXPLAIN-$POINTS}
PGLOG=${PGLOG:-/var/log/postgresql/postgresql-15-main.log}
SEED_GROUPS=${BENCH_GROUPS:-200}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
OUT=${OUT:-bench/results/growth-$(date -u +%Y-%m-%d).tsv}
TABLE=${OUT%.tsv}.md
ADDR=127.0.0.1:18093
PSQL=(psql -h "$PGHOST" -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
WORK=$(mktemp -d /tmp/pricegraph-growth.XXXXXX)
DB=
SERVER=

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no binary at $BIN: cargo build --release" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"

stop_server() {
    if [ -n "$SERVER" ]; then
        kill "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
        SERVER=
    fi
}
drop_db() {
    if [ -n "$DB" ]; then
        "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
        DB=
    fi
}
cleanup() {
    stop_server
    drop_db
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

point_shape() { # name -> "customers products lists"
    case $1 in
        c10k) echo "10000 50000 2000" ;;
        c100k) echo "100000 50000 2000" ;;
        c1m) echo "1000000 50000 2000" ;;
        c10m) echo "10000000 50000 2000" ;;
        p10k) echo "100000 10000 2000" ;;
        p100k) echo "100000 100000 2000" ;;
        p1m) echo "100000 1000000 2000" ;;
        l200) echo "100000 50000 200" ;;
        l20000) echo "100000 50000 20000" ;;
        *) echo "unknown point $1 (known: $ALL_POINTS)" >&2; return 1 ;;
    esac
}

[ -s "$OUT" ] || printf 'date\tpoint\tcustomers\tproducts\tprice_lists\tseed_s\tquery\tmode\tconnections\trequests_per_s\tp50_ms\tp99_ms\tfailed\tpeak_rss_mb\n' >"$OUT"
# One result line: query, mode, connections, req/s, p50, p99, failed, rss.
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M)" "$POINT" "$CUSTOMERS" \
        "$PRODUCTS" "$LISTS" "$SEED_S" "$@" | tee -a "$OUT" >&2
}

start_server() { # cache: on | off, [log name]
    local log="$WORK/server-$POINT-${2:-$1}.log"
    if [ -n "${SERVER_RUST_LOG:-}" ]; then
        RUST_LOG=$SERVER_RUST_LOG "$BIN" serve --database-url "$URL" --listen "$ADDR" --cache "$1" \
            --request-timeout-ms 120000 --log-format json >"$log" 2>&1 &
    else
        "$BIN" serve --database-url "$URL" --listen "$ADDR" --cache "$1" --request-timeout-ms 120000 >"$log" 2>&1 &
    fi
    SERVER=$!
    for _ in $(seq 1 600); do
        curl -sf "http://$ADDR/health" >/dev/null && return 0
        kill -0 "$SERVER" 2>/dev/null || break
        sleep 0.1
    done
    echo "the server did not start; its log:" >&2
    tail -n 20 "$log" >&2
    exit 1
}
peak_rss_mb() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER/status"; }

# A wrk script that sends the bodies of FILE (one JSON body a line) in turn.
rotating() { # bodies file -> lua file
    cat >"$1.lua" <<EOF
local bodies = {}
for line in io.lines("$1") do bodies[#bodies + 1] = line end
local i = math.random(#bodies)
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
request = function()
    i = i % #bodies + 1
    return wrk.format(nil, "/graphql", nil, bodies[i])
end
EOF
    echo "$1.lua"
}

# wrk at CONNECTIONS for SECONDS with SCRIPT; records req/s, p50, p99 and
# the non-2xx answers and socket errors.
measure() { # query, mode, connections, seconds, script
    local query=$1 mode=$2 connections=$3 seconds=$4 script=$5 threads=1
    [ "$connections" -lt 2 ] || threads=2
    wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -s "$script" "http://$ADDR/graphql" >"$WORK/wrk.txt" || true
    read -r rps p50 p99 failed < <(awk '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
            return v
        }
        /Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        /Non-2xx/ { failed += $NF }
        /Socket errors/ { gsub(/,/, ""); failed += $4 + $6 + $8 + $10 }
        END { printf "%.0f %.3f %.3f %d\n", rps, p50, p99, failed }' "$WORK/wrk.txt")
    record "$query" "$mode" "$connections" "$rps" "$p50" "$p99" "$failed" ""
}

# One request with curl; fails the point when the answer has GraphQL errors.
check() { # body file (its first line is sent)
    local answer
    answer=$(head -n 1 "$1" | curl -sS -H 'content-type: application/json' --data-binary @- "http://$ADDR/graphql")
    if ! python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(1 if d.get("errors") or not d.get("data") else 0)' "$answer"; then
        echo "errors in the answer to $(head -c 200 "$1"): $(echo "$answer" | head -c 600)" >&2
        exit 1
    fi
}

bodies() { # writes the request bodies for this point into $WORK
    # 1,000 random customers, the same ones on every run: a repeatable
    # sample of about 3,000 (so that 10M rows are not sorted), shuffled by
    # a hash of the id.
    local percent
    percent=$(python3 -c "print(min(100.0, 100.0 * 3000 / $((CUSTOMERS + 36))))")
    "${PSQL[@]}" -d "$DB" -c "SELECT id FROM customer TABLESAMPLE BERNOULLI ($percent) REPEATABLE (7)
        ORDER BY md5(id::text) LIMIT 1000" >"$WORK/customers.txt"
    "${PSQL[@]}" -d "$DB" -c "SELECT id FROM price_list WHERE name LIKE 'Bench List %' AND status = 'ACTIVE' ORDER BY name LIMIT 1" \
        >"$WORK/list.txt"
    "${PSQL[@]}" -d "$DB" -c "SELECT id FROM product WHERE sku LIKE 'BENCH-%' ORDER BY sku LIMIT 1000" >"$WORK/products.txt"
    python3 - "$WORK" <<'EOF'
import json, sys
work = sys.argv[1]
customers = open(f"{work}/customers.txt").read().split()
store = ('query($c: ID!) { products(first: 50) { edges { node { id resolvedPrice(customerId: $c, currency: "USD") '
         '{ amount { amount currencyCode } source } } } } }')
tree = 'query($c: ID!) { customer(id: $c) { id groups { name priceLists { priority priceList { name } } } } }'
with open(f"{work}/store.txt", "w") as out:
    for c in customers:
        out.write(json.dumps({"query": store, "variables": {"c": c}}) + "\n")
with open(f"{work}/tree.txt", "w") as out:
    for c in customers:
        out.write(json.dumps({"query": tree, "variables": {"c": c}}) + "\n")
# 1,000 tiers of one list, every amount changed from one body to the next.
price_list = open(f"{work}/list.txt").read().split()[0]
products = open(f"{work}/products.txt").read().split()
upsert = ('mutation($input: UpsertPricesInput!) { upsertPrices(input: $input) '
          '{ summary { created updated unchanged } userErrors { field code } } }')
with open(f"{work}/upsert.txt", "w") as out:
    for round in range(20):
        prices = [{"productId": p, "currency": "USD", "minQuantity": 1,
                   "amount": "%d.%02d" % divmod(1000 + 7 * i + round, 100)} for i, p in enumerate(products)]
        out.write(json.dumps({"query": upsert, "variables": {"input": {"priceListId": price_list, "prices": prices}}}) + "\n")
with open(f"{work}/health.txt", "w") as out:
    out.write(json.dumps({"query": "{ pricingHealth { checkedAt checks { code found listed } findings { code } } }"}) + "\n")
with open(f"{work}/typename.txt", "w") as out:
    out.write(json.dumps({"query": "{ __typename }"}) + "\n")
EOF
}

# One request of each kind on a server with the cache off, its statements
# logged by the server and their plans (with run times) by auto_explain.
explain_point() {
    local settings offset prefix=${OUT%.tsv}
    for settings in "session_preload_libraries = 'auto_explain'" "auto_explain.log_min_duration = 0" \
        "auto_explain.log_analyze = on" "auto_explain.log_buffers = on" "auto_explain.log_timing = on"; do
        "${PSQL[@]}" -d postgres -c "ALTER DATABASE $DB SET $settings"
    done
    offset=$(stat -c %s "$PGLOG")
    SERVER_RUST_LOG=info,pricegraph::sql=trace start_server off explain
    local kind
    for kind in store tree health upsert; do
        sed -n 2p "$WORK/$kind.txt" | grep . >"$WORK/one.txt" || head -n 1 "$WORK/$kind.txt" >"$WORK/one.txt"
        curl -sS -o /dev/null -w "$(date -u +%H:%M:%S.%N) $POINT explain $kind: %{time_total} s\n" -H 'content-type: application/json' \
            --data-binary @"$WORK/one.txt" "http://$ADDR/graphql" >&2
        sleep 0.5
    done
    stop_server
    cp "$WORK/server-$POINT-explain.log" "$prefix-sql-$POINT.log"
    tail -c +"$((offset + 1))" "$PGLOG" >"$prefix-explain-$POINT.log"
}

run_point() {
    POINT=$1
    read -r CUSTOMERS PRODUCTS LISTS < <(point_shape "$POINT")
    SEED_S=
    DB="pricegraph_growth_${POINT}_$$"
    URL="postgres://postgres@$PGHOST:$PGPORT/$DB"
    log "point $POINT: $CUSTOMERS customers, $PRODUCTS products, $LISTS price lists, $SEED_GROUPS groups"
    df -h /work /var/lib/postgresql | sed 's/^/    /' >&2
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB"
    local started
    started=$(date +%s.%N)
    "$BIN" seed --database-url "$URL" --demo --customers "$CUSTOMERS" --groups "$SEED_GROUPS" --price-lists "$LISTS" \
        --products "$PRODUCTS" >"$WORK/seed-$POINT.log" 2>&1 || { tail -n 20 "$WORK/seed-$POINT.log" >&2; exit 1; }
    SEED_S=$(python3 -c "print(round($(date +%s.%N) - $started, 1))")
    grep -E 'seeded the|analyzed' "$WORK/seed-$POINT.log" | sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^/    /' >&2
    record seed - 0 "" "" "" "" ""
    cp "$WORK/seed-$POINT.log" "${OUT%.tsv}-seed-$POINT.log"
    bodies
    local store tree upsert health typename
    store=$(rotating "$WORK/store.txt")
    tree=$(rotating "$WORK/tree.txt")
    upsert=$(rotating "$WORK/upsert.txt")
    typename=$(rotating "$WORK/typename.txt")

    log "$POINT: cold (cache off)"
    start_server off
    check "$WORK/store.txt"
    measure storefront cold 1 "$C1" "$store"
    measure storefront cold 64 "$C64" "$store"
    record server-peak-rss cold "" "" "" "" "" "$(peak_rss_mb)"
    stop_server

    log "$POINT: warm (cache on)"
    start_server on
    wrk -t2 -c8 -d3s -s "$store" "http://$ADDR/graphql" >/dev/null
    measure storefront warm 1 "$C1" "$store"
    measure storefront warm 64 "$C64" "$store"
    check "$WORK/tree.txt"
    measure customer-tree warm 1 "$C1" "$tree"
    measure customer-tree warm 64 "$C64" "$tree"
    measure typename warm 64 "$C64" "$typename"
    check "$WORK/health.txt"
    local times
    times=$(for _ in $(seq 1 "$HEALTH"); do
        curl -sS -o /dev/null -w '%{time_total}\n' -H 'content-type: application/json' \
            --data-binary @"$WORK/health.txt" "http://$ADDR/graphql"
    done | sort -n)
    record pricing-health warm 1 "" \
        "$(echo "$times" | awk '{ t[NR] = $1 } END { printf "%.1f", t[int((NR + 1) / 2)] * 1000 }')" \
        "$(echo "$times" | awk 'END { printf "%.1f", $1 * 1000 }')" 0 ""
    check "$WORK/upsert.txt"
    measure upsert-1000 warm 1 "$C1" "$upsert"
    record server-peak-rss warm "" "" "" "" "" "$(peak_rss_mb)"
    stop_server
    if [[ " $EXPLAIN " == *" $POINT "* ]]; then explain_point; fi
    drop_db
}

for point in $POINTS; do
    point_shape "$point" >/dev/null
done
for point in $POINTS; do
    run_point "$point"
done

# The markdown table of the whole file (every point in it, the last run of
# each): one row per point; c1 columns are p50 / p99 in ms, c64 columns
# requests a second.
python3 - "$OUT" "$ALL_POINTS" >"$TABLE" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
order = sys.argv[2].split()
points, results = [], {}
for r in rows:
    if r["point"] not in points:
        points.append(r["point"])
    results[(r["point"], r["query"], r["mode"], r["connections"])] = r
points.sort(key=lambda p: order.index(p) if p in order else len(order))
def ms(v):
    v = float(v)
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:,.0f}"
def cell(point, query, mode, c, what):
    r = results.get((point, query, mode, c))
    if r is None:
        return "–"
    if what == "latency":
        return f"{ms(r['p50_ms'])} / {ms(r['p99_ms'])}"
    if what == "rps":
        return f"{int(r['requests_per_s']):,}"
    if what == "seed":
        return f"{float(r['seed_s']):,.1f}"
    return r["peak_rss_mb"]
print("| point | customers | products | lists | seed s | storefront cold c1 | cold c64 | storefront warm c1 | warm c64 "
      "| customer tree c1 | tree c64 | upsert 1,000 c1 | pricingHealth median / max | typename c64 | peak RSS cold / warm MB |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for p in points:
    any_row = next(r for r in rows if r["point"] == p)
    print(f"| {p} | {int(any_row['customers']):,} | {int(any_row['products']):,} | {int(any_row['price_lists']):,} "
          f"| {cell(p, 'seed', '-', '0', 'seed')} "
          f"| {cell(p, 'storefront', 'cold', '1', 'latency')} | {cell(p, 'storefront', 'cold', '64', 'rps')} "
          f"| {cell(p, 'storefront', 'warm', '1', 'latency')} | {cell(p, 'storefront', 'warm', '64', 'rps')} "
          f"| {cell(p, 'customer-tree', 'warm', '1', 'latency')} | {cell(p, 'customer-tree', 'warm', '64', 'rps')} "
          f"| {cell(p, 'upsert-1000', 'warm', '1', 'latency')} | {cell(p, 'pricing-health', 'warm', '1', 'latency')} "
          f"| {cell(p, 'typename', 'warm', '64', 'rps')} "
          f"| {cell(p, 'server-peak-rss', 'cold', '', 'rss')} / {cell(p, 'server-peak-rss', 'warm', '', 'rss')} |")
EOF
log "results: $OUT, table: $TABLE"
