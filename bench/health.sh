#!/usr/bin/env bash
# Times the pricing health report (docs/api.md#pricing-health) on the
# benchmark data: each check's statement alone (sqlite3; psql with EXPLAIN
# ANALYZE), best of three, then whole `pricingHealth` requests to a server.
# Usage: bench/health.sh sqlite|postgres [requests]   (default 5)
# Data: $BENCH_DB (default /tmp/pricegraph-health.db) or the PostgreSQL
# database pricegraph_health_bench on $PGHOST (127.0.0.1), seeded when
# missing and kept for the next run. PRICEGRAPH_BIN: the server (default
# target/debug/pricegraph; the statements do not depend on the build).
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${1:?usage: bench/health.sh sqlite|postgres [requests]}
REQUESTS=${2:-5}
BIN=${PRICEGRAPH_BIN:-target/debug/pricegraph}
DB=${BENCH_DB:-/tmp/pricegraph-health.db}
PGDB=pricegraph_health_bench
PG="psql -h ${PGHOST:-127.0.0.1} -U postgres"
ADDR=127.0.0.1:18089
EVERYONE=00000000-0000-7000-8000-000000000002
WORK=$(mktemp -d /tmp/pricegraph-health.XXXXXX)
trap 'rm -rf "$WORK"; [ -z "${SERVER:-}" ] || kill "$SERVER" 2>/dev/null || true' EXIT

[ -x "$BIN" ] || cargo build --quiet
case "$BACKEND" in
sqlite) URL="sqlite://$DB?mode=rwc"; SEEDED=$([ -f "$DB" ] && echo yes || true) ;;
postgres)
    URL="postgres://postgres@${PGHOST:-127.0.0.1}:5432/$PGDB"
    SEEDED=$($PG -qAt -c "SELECT 'yes' FROM pg_database WHERE datname = '$PGDB'")
    [ -n "$SEEDED" ] || $PG -q -c "CREATE DATABASE $PGDB"
    ;;
*) echo "usage: bench/health.sh sqlite|postgres [requests]" >&2; exit 2 ;;
esac
if [ -z "$SEEDED" ]; then
    "$BIN" seed --database-url "$URL" --demo --customers 100000 --groups 200 --price-lists 2000 --products 50000
fi

# The statements, as the server builds them (src/store/health/sql.rs).
cargo test --quiet --lib store::health::sql::tests::print_statements -- --ignored --nocapture >"$WORK/statements.txt"
python3 - "$WORK" <<'EOF'
import re, sys
text = open(f"{sys.argv[1]}/statements.txt").read()
for name, sql in re.findall(r"^-- (\w+)\n(.*?;)\n", text, flags=re.M | re.S):
    open(f"{sys.argv[1]}/{name}.sql", "w").write(sql + "\n")
EOF

NOW=$(date -u +%Y-%m-%dT%H:%M:%S.000000000+00:00)
echo "statements ($BACKEND), best of 3, in ms:"
for file in "$WORK"/*.sql; do
    name=$(basename "$file" .sql)
    if [ "$BACKEND" = sqlite ]; then
        best=$(for _ in 1 2 3; do
            { echo ".parameter set :now '$NOW'"; echo ".parameter set :everyone X'${EVERYONE//-/}'"
              echo ".timer on"; echo ".output /dev/null"; cat "$file"; } | sqlite3 "$DB" 2>&1 |
                sed -n 's/^Run Time: real \([0-9.]*\).*/\1/p' | awk '{ print $1 * 1000 }'
        done | sort -n | head -1)
    else
        best=$(for _ in 1 2 3; do
            { echo "EXPLAIN (ANALYZE, TIMING OFF)"
              sed -e "s/:now/:'now'::timestamptz/g" -e "s/:everyone/:'everyone'::uuid/g" "$file"; } |
                $PG -d "$PGDB" -qAt -v now="$NOW" -v everyone="$EVERYONE" |
                sed -n 's/^Execution Time: \([0-9.]*\) ms/\1/p'
        done | sort -n | head -1)
    fi
    printf '  %-36s %8s\n' "$name" "$best"
done

"$BIN" serve --database-url "$URL" --listen "$ADDR" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "http://$ADDR/health" >/dev/null && break; sleep 0.2; done
QUERY='{"query":"{ pricingHealth { checkedAt findings { code severity message subjects { __typename id } } checks { code found listed } } }"}'
echo "requests ($BACKEND, $BIN), in s:"
for _ in $(seq 1 "$REQUESTS"); do
    curl -s -o "$WORK/answer.json" -w '  %{time_total}\n' "http://$ADDR/graphql" \
        -H 'Content-Type: application/json' -d "$QUERY"
done
python3 -c "
import json, sys
checks = json.load(open(sys.argv[1]))['data']['pricingHealth']['checks']
print('found:', ', '.join(f\"{c['code']} {c['found']}\" for c in checks if c['found']))
" "$WORK/answer.json"
