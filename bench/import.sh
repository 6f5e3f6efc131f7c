#!/usr/bin/env bash
# Times `pricegraph import prices` on a release build: wall time and peak
# resident memory, for a file of N/4 rows and one of N rows into empty lists
# (memory must not grow with the file), the same N-row file again (every row
# unchanged), and the N-row file over the N/4 rows (3/4 new).
# Usage: bench/import.sh sqlite|postgres [rows]   (default 1,000,000 rows)
# WEBHOOKS=1: a server runs on the same database with a webhook endpoint
# for every event type (a local receiver that answers 200), so every import
# also writes its events to the outbox and the server delivers them while
# the next import runs; at the end: the events written, and how long the
# last ones took to be delivered after the imports ended.
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
    [ -z "${SERVER:-}" ] || kill "$SERVER" 2>/dev/null || true
    [ -z "${RECEIVER:-}" ] || kill "$RECEIVER" 2>/dev/null || true
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
    sql() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$WORK/bench.db" "$1"; }
    list_id() { python3 -c "import sqlite3,uuid,sys; c=sqlite3.connect(sys.argv[1]); print(uuid.UUID(bytes=c.execute(\"select id from price_list where name like 'Bench List%' order by name limit 1 offset $1\").fetchone()[0]))" "$WORK/bench.db"; }
    ;;
postgres)
    $PG -c "DROP DATABASE IF EXISTS pricegraph_import_bench WITH (FORCE)" -c "CREATE DATABASE pricegraph_import_bench" >/dev/null
    export DATABASE_URL="postgres://postgres@${PGHOST:-127.0.0.1}/pricegraph_import_bench"
    sql() { $PG -d pricegraph_import_bench -c "$1"; }
    list_id() { $PG -d pricegraph_import_bench -c "select id from price_list where name like 'Bench List%' order by name limit 1 offset $1"; }
    ;;
*) echo "usage: bench/import.sh sqlite|postgres [rows]" >&2; exit 2 ;;
esac

"$BIN" seed --products "$PRODUCTS" --price-lists 2 >/dev/null 2>&1
FIRST=$(list_id 0)
SECOND=$(list_id 1)

if [ "${WEBHOOKS:-0}" = 1 ]; then
    python3 - "$WORK/received" <<'PY' &
import http.server, sys
path, count = sys.argv[1], 0
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(200); self.end_headers()
        count += 1
        open(path, "w").write(str(count))
    def log_message(self, *_): pass
http.server.ThreadingHTTPServer(("127.0.0.1", 18095), Hook).serve_forever()
PY
    RECEIVER=$!
    "$BIN" serve --listen 127.0.0.1:18094 --webhook-allow-private >"$WORK/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18094/health >/dev/null && break; sleep 0.1; done
    curl -sf -H 'content-type: application/json' http://127.0.0.1:18094/graphql -d '{"query":"mutation { createWebhookEndpoint(input: { url: \"http://127.0.0.1:18095/hook\", events: [PRICES_CHANGED, BASE_PRICES_CHANGED, PRICE_LIST_CHANGED, GROUP_CHANGED, MEMBERSHIP_CHANGED, ORGANIZATION_GROUPS_CHANGED, PRICE_LIST_STARTED, PRICE_LIST_ENDED] }) { webhookEndpoint { id } userErrors { message } } }"}' >/dev/null
    echo "webhooks on: an endpoint for every event type, delivered by a server on the same database"
fi

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

run() { # label, file, list
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$BIN" import prices "$2" --price-list "$3" >"$WORK/out" 2>"$WORK/err" || {
        cat "$WORK/err" >&2; exit 1; }
    read -r seconds kb <"$WORK/time"
    printf '%-26s %8.1f s  peak RSS %4d MB  %s\n' "$1" "$seconds" $((kb / 1024)) "$(cat "$WORK/out")"
}
echo "$BACKEND, $(du -h "$WORK/full.csv" | cut -f1) file"
run "$((ROWS / 4)) rows (new)" "$WORK/quarter.csv" "$FIRST"
run "$ROWS rows (new)" "$WORK/full.csv" "$SECOND"
run "$ROWS rows again" "$WORK/full.csv" "$SECOND"
run "$ROWS rows (3/4 new)" "$WORK/full.csv" "$FIRST"

if [ "${WEBHOOKS:-0}" = 1 ]; then
    ENDED=$(date +%s.%N)
    EVENTS=$(sql "select count(*) from webhook_event")
    received() { local n; n=$(cat "$WORK/received" 2>/dev/null); echo "${n:-0}"; }
    while [ "$(received)" -lt "$EVENTS" ]; do sleep 0.05; done
    printf 'events written: %s (for %s rows imported in all); all delivered %.1f s after the last import ended\n' \
        "$EVENTS" "$((ROWS / 4 + 3 * ROWS))" "$(echo "$(date +%s.%N) - $ENDED" | bc)"
fi
