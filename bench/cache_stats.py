#!/usr/bin/env python3
"""Prints each cache layer's hits, misses, hit rate, entries and bytes from a
running server's /metrics, one line per layer that was used:

    python3 bench/cache_stats.py http://127.0.0.1:8080 [--since FILE] [--save FILE]

--save FILE keeps the counters read now; --since FILE prints only what
changed after such a snapshot (so a benchmark shows its own run's rates,
not the warm-up's)."""
import json
import re
import sys
import urllib.request

LINE = re.compile(r'^pricegraph_cache_(hits_total|misses_total|entries|bytes)\{([^}]*)\} (\S+)$')


def read(base):
    text = urllib.request.urlopen(base.rstrip("/") + "/metrics", timeout=10).read().decode()
    layers = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        labels = dict(kv.split("=", 1) for kv in m.group(2).split(","))
        name = f'{labels["tier"].strip(chr(34))}:{labels["layer"].strip(chr(34))}'
        layers.setdefault(name, {})[m.group(1)] = float(m.group(3))
    return layers


def main():
    args = sys.argv[1:]
    base = args[0]
    since = args[args.index("--since") + 1] if "--since" in args else None
    save = args[args.index("--save") + 1] if "--save" in args else None
    now = read(base)
    if save:
        with open(save, "w") as f:
            json.dump(now, f)
        return
    before = json.load(open(since)) if since else {}
    print(f"{'layer':28} {'hits':>10} {'misses':>9} {'hit rate':>8} {'entries':>9} {'MiB':>7}")
    for name, v in sorted(now.items()):
        b = before.get(name, {})
        hits = v.get("hits_total", 0) - b.get("hits_total", 0)
        misses = v.get("misses_total", 0) - b.get("misses_total", 0)
        if hits + misses == 0:
            continue
        rate = hits / (hits + misses)
        print(f"{name:28} {hits:10.0f} {misses:9.0f} {rate:8.1%} {v.get('entries', 0):9.0f} {v.get('bytes', 0) / 2**20:7.1f}")


main()
