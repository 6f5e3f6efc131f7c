#!/usr/bin/env bash
# Instructions per request of one query, counted by valgrind's callgrind:
# repeatable whatever else the machine does (time is not).
#
#   bench/callgrind.sh BIN BODY [N]
#
# BIN   a release binary; BODY a file with one JSON request body, in which
#       CUSTOMER is replaced by the first customer's id; N requests (100).
# BENCH_DB  the SQLite file served, copied first (default
#       /tmp/pricegraph-store.db, made by `pricegraph seed --database-url
#       'sqlite:///tmp/pricegraph-store.db?mode=rwc' --demo --customers 10000
#       --groups 50 --price-lists 200 --products 5000`).
# Three requests warm the server up, then the counters are zeroed, N
# requests run one at a time, and the counters are dumped. The count
# includes the server's background work meanwhile (the change-log follower,
# every 50 ms). The profile stays in the printed directory for
# `callgrind_annotate --inclusive=yes DIR/cg.out.1`.
set -euo pipefail
BIN=$1
BODY=$2
N=${3:-100}
ADDR=127.0.0.1:18095
OUT=$(mktemp -d)
cp "${BENCH_DB:-/tmp/pricegraph-store.db}" "$OUT/run.db"
valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" "$BIN" serve \
    --database-url "sqlite://$OUT/run.db?mode=rwc" --listen $ADDR >"$OUT/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "http://$ADDR/health" >/dev/null && break; sleep 1; done
CUSTOMER=$(curl -s -H 'content-type: application/json' -d '{"query":"{ customers(first: 1) { nodes { id } } }"}' \
    "http://$ADDR/graphql" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["customers"]["nodes"][0]["id"])')
sed "s/CUSTOMER/$CUSTOMER/g" "$BODY" >"$OUT/body.json"
post() { curl -s -o /dev/null -H 'content-type: application/json' -d @"$OUT/body.json" "http://$ADDR/graphql"; }
for _ in 1 2 3; do post; done
callgrind_control -z "$PID" >/dev/null
for _ in $(seq 1 "$N"); do post; done
callgrind_control -d "$PID" >/dev/null
sleep 1
TOTAL=$(callgrind_annotate "$OUT/cg.out.1" 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}')
echo "$(basename "$BODY"): $((TOTAL / N)) instructions per request ($OUT)"
