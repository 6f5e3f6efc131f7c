#!/usr/bin/env bash
# Times `pricegraph import prices` on a release build: wall time and peak
# resident memory, for a file of N rows and one of N/4 rows (memory must not
# grow with the file), then the same N-row file again (every row unchanged).
# Usage: bench/import.sh sqlite|postgres [rows]   (default 1,000,000 rows)
# PostgreSQL: a database `pricegraph_import_bench` on $PGHOST (127.0.0.1),
# created and dropped by the script. See BENCHMARKS.md for recorded results.
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${1:?usage: bench/import.sh sqlite|postgres [rows]}
ROWS=${2:-1000000}
BIN=${PRICEGRAPH_BIN:-target/release/pricegraph}
WORK=$(mktemp -d /tmp/pricegraph-import.XXXXXX)
PG="psql -h ${PGHOST:-127.0.0.1} -U postgres -qAt"
cleanup() {
    rm -rf "$WORK"
    [ "$BACKEND" != postgres ] || $PG -c "DROP DATABASE IF EXISTS pricegraph_import_bench WITH (FORCE)" >/dev/null
}
trap cleanup EXIT

[ -n "${PRICEGRAPH_BIN:-}" ] || cargo build --release --quiet
# 20 tiers per product: 2 currencies x 10 quantity breaks.
PRODUCTS=$(((ROWS + 19) / 20))
case "$BACKEND" in
sqlite)
    export DATABASE_URL="sqlite://$WORK/bench.db?mode=rwc"
    list_id() { python3 -c "import sqlite3,uuid,sys; c=sqlite3.connect(sys.argv[1]); print(uuid.UUID(bytes=c.execute(\"select id from price_list where name like 'Bench List%' limit 1\").fetchone()[0]))" "$WORK/bench.db"; }
    ;;
postgres)
    $PG -c "DROP DATABASE IF EXISTS pricegraph_import_bench WITH (FORCE)" -c "CREATE DATABASE pricegraph_import_bench" >/dev/null
    export DATABASE_URL="postgres://postgres@${PGHOST:-127.0.0.1}/pricegraph_import_bench"
    list_id() { $PG -d pricegraph_import_bench -c "select id from price_list where name like 'Bench List%' limit 1"; }
    ;;
*) echo "usage: bench/import.sh sqlite|postgres [rows]" >&2; exit 2 ;;
esac

"$BIN" seed --products "$PRODUCTS" --price-lists 1 >/dev/null 2>&1
LIST=$(list_id)

make_csv() { # rows, file
    python3 - "$1" "$2" <<'PY'
import sys
rows, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("sku,currency,min_quantity,max_quantity,amount\n")
    for i in range(rows):
        product, tier = divmod(i, 20)
        currency, step = ("USD", "EUR")[tier % 2], tier // 2
        low = 1 + 10 * step
        high = "" if step == 9 else str(low + 9)
        f.write(f"BENCH-{product + 1:06},{currency},{low},{high},{100 - step + (product % 97) / 100:.2f}\n")
PY
}
make_csv "$ROWS" "$WORK/full.csv"
make_csv $((ROWS / 4)) "$WORK/quarter.csv"

run() { # label, file
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$BIN" import prices "$2" --price-list "$LIST" >"$WORK/out" 2>"$WORK/err" || {
        cat "$WORK/err" >&2; exit 1; }
    read -r seconds kb <"$WORK/time"
    printf '%-26s %8.1f s  peak RSS %4d MB  %s\n' "$1" "$seconds" $((kb / 1024)) "$(cat "$WORK/out")"
}
echo "$BACKEND, $(du -h "$WORK/full.csv" | cut -f1) file, price list $LIST"
run "$((ROWS / 4)) rows (new)" "$WORK/quarter.csv"
run "$ROWS rows (3/4 new)" "$WORK/full.csv"
run "$ROWS rows again" "$WORK/full.csv"
