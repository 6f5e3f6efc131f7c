"""Summarizes what bench/growth.sh captured at a point with EXPLAIN: each
statement a request ran (from auto_explain's log), its run time, the rows
its plan read from each table, and the time JIT compilation took, leaving
out the background pollers (change log, list windows, webhook claims).

Usage: python3 bench/growth_sql.py bench/results/growth-DATE-explain-POINT.log [more...]
"""
import re
import sys

POLLERS = ("FROM \"change_log\"", "\"webhook_delivery\"", "price_list_edge", "seaql_migrations", "change_position")
ENTRY = re.compile(r"^\S+ (\S+) UTC \[\d+\] \S+ LOG:  duration: ([\d.]+) ms  plan:$")
SCAN = re.compile(r"(Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan) (?:using \S+ )?on (\w+).*?actual time=[\d.]+\.\.[\d.]+ rows=(\d+) loops=(\d+)")
JIT = re.compile(r"Timing: .* Total ([\d.]+) ms")


def entries(path):
    current = None
    for line in open(path, errors="replace"):
        match = ENTRY.match(line.rstrip("\n"))
        if match:
            if current:
                yield current
            current = {"at": match.group(1), "ms": float(match.group(2)), "lines": []}
        elif current is not None and line.startswith("\t"):
            current["lines"].append(line[1:].rstrip("\n"))
        elif current is not None:
            yield current
            current = None
    if current:
        yield current


for path in sys.argv[1:]:
    print(f"== {path}")
    for entry in entries(path):
        text = "\n".join(entry["lines"])
        query = text.split("Query Text:", 1)[-1].strip().split("\n")[0][:110]
        if any(p in text.split("\n")[0] for p in POLLERS):
            continue
        scans = {}
        for kind, table, rows, loops in SCAN.findall(text):
            key = f"{'seq' if kind == 'Seq Scan' else 'idx'}:{table}"
            scans[key] = scans.get(key, 0) + int(rows) * int(loops)
        jit = JIT.search(text)
        read = ", ".join(f"{k} {v:,}" for k, v in sorted(scans.items(), key=lambda kv: -kv[1])[:4])
        print(f"{entry['at']} {entry['ms']:10.2f} ms  jit {float(jit.group(1)) if jit else 0:8.1f} ms  {query}\n{'':27}rows read: {read}")
