#!/usr/bin/env python3
"""The adversary's requests against a release build, three attackers at a
time per class, while a normal storefront query runs beside them (oha, one
connection): for each class, what the server answers, the slowest answer,
the server's resident memory, and the normal query's p99.

Usage: bench/attacks.py [seconds per class]     (needs oha; builds nothing:
PRICEGRAPH_BIN, default target/release/pricegraph)

The server runs on a fresh SQLite file with the demo data, a storefront key,
and the rate limit off (it would answer the attackers 429 first; this
measures what the other limits do on their own). Loopback only.
"""

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 10
BIN = os.environ.get("PRICEGRAPH_BIN", "target/release/pricegraph")
ADDR = "127.0.0.1:18095"
KEY = "storefront-key-for-the-attack-bench"
URL = f"http://{ADDR}/graphql"


def post(body, timeout=60):
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        URL, data=data, headers={"content-type": "application/json", "authorization": f"Bearer {KEY}"}
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    except Exception as error:  # the connection itself failed
        return "connection: " + type(error).__name__, time.monotonic() - started
    took = time.monotonic() - started
    try:
        errors = json.loads(text).get("errors") or []
        code = errors[0]["extensions"]["code"] if errors else "ok"
    except Exception:
        code = "?"
    return f"{status} {code}", took


def aliased(count, field):
    return "{ " + " ".join(f"a{i}: {field}" for i in range(count)) + " }"


def attacks(product):
    items = [{"productId": product} for _ in range(1000)]
    bomb = "{ ...F0 }" + "".join(
        f" fragment F{l} on Query {{ {' '.join([f'...F{l + 1}'] * 10)} }}" for l in range(8)
    ) + " fragment F8 on Query { __typename }"
    nested = "{ a(b: " + "[" * 2000 + "1" + "]" * 2000 + ") }"
    return [
        ("nested lists, 2,000 levels", {"query": nested}),
        ("resolvePrices 1,000 items x 3,000 aliases", {
            "query": "query($i: ResolvePricesInput!) " + aliased(3000, "resolvePrices(input: $i) { source }"),
            "variables": {"i": {"currency": "USD", "items": items}},
        }),
        ("resolvePrices 1,000 items x 20 aliases", {
            "query": "query($i: ResolvePricesInput!) " + aliased(20, "resolvePrices(input: $i) { source amount { amount } }"),
            "variables": {"i": {"currency": "USD", "items": items}},
        }),
        ("55,000 aliased __typename", {"query": aliased(55000, "__typename")}),
        ("1,500 aliased introspections", {"query": aliased(1500, "__schema { types { name fields { name } } }")}),
        ("fragment bomb (10^8 fields)", {"query": bomb}),
        ("60,000-character search", {
            "query": "query($s: String) { products(first: 1, filter: { search: $s }) { totalCount } }",
            "variables": {"s": "x" * 60000},
        }),
    ]


def rss_kb(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def main():
    workdir = tempfile.mkdtemp()
    env = dict(os.environ, DATABASE_URL=f"sqlite://{workdir}/attack.db?mode=rwc",
               PRICEGRAPH_API_KEYS=f"storefront:{KEY},admin:admin-key-for-the-attack-bench",
               PRICEGRAPH_RATE_LIMIT="0", RUST_LOG="warn")
    # The server gets the usual 1,024 file descriptors (it raises its soft
    # limit to the hard one, so both are set); this process needs more.
    limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    server = subprocess.Popen([BIN, "serve", "--demo", "--listen", ADDR], env=env, preexec_fn=limit,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://{ADDR}/ready", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        product = json.loads(urllib.request.urlopen(urllib.request.Request(
            URL, data=json.dumps({"query": "{ products(first: 1) { edges { node { id } } } }"}).encode(),
            headers={"content-type": "application/json", "authorization": f"Bearer {KEY}"})).read()
        )["data"]["products"]["edges"][0]["node"]["id"]
        normal = json.dumps({"query": "{ products(first: 20) { edges { node { sku resolvedPrice(currency: \"USD\") { amount { amount } source } } } } }"})
        idle = rss_kb(server.pid, "VmRSS")
        print(f"server idle: {idle / 1024:.0f} MB resident; normal query alone:", end=" ")
        print(oha_p99(normal, SECONDS / 2))
        print(f"| attack (3 attackers, {SECONDS:.0f} s) | answers | slowest | peak RSS | normal p99 |")
        print("|---|---|---|---|---|")
        for name, body in attacks(product):
            answers, slowest, stop = {}, [0.0], time.monotonic() + SECONDS
            peak = [0]

            def attacker():
                while time.monotonic() < stop:
                    answer, took = post(body)
                    answers[answer] = answers.get(answer, 0) + 1
                    slowest[0] = max(slowest[0], took)

            def watch():
                while time.monotonic() < stop + 1:
                    peak[0] = max(peak[0], rss_kb(server.pid, "VmRSS"))
                    time.sleep(0.05)

            threads = [threading.Thread(target=attacker) for _ in range(3)] + [threading.Thread(target=watch)]
            for thread in threads:
                thread.start()
            p99 = oha_p99(normal, SECONDS)
            for thread in threads:
                thread.join()
            alive = server.poll() is None
            summary = ", ".join(f"{count} x {answer}" for answer, count in sorted(answers.items()))
            print(f"| {name} | {summary}{'' if alive else ' (SERVER DIED)'} | {slowest[0] * 1000:.0f} ms "
                  f"| {peak[0] / 1024:.0f} MB | {p99} |")
            if not alive:
                break
        # 1,100 connections that send nothing, as many as a 1,024-descriptor
        # server once died of: the excess is shed, the rest are closed after
        # the header timeout, and the normal query is served again.
        sockets = []
        for _ in range(1100):
            try:
                sockets.append(socket.create_connection(tuple(ADDR.split(":")), timeout=5))
            except OSError:
                break
        time.sleep(1)
        shed = 0
        for held in sockets:
            held.setblocking(False)
            try:
                shed += held.recv(64).startswith(b"HTTP/1.1 503")
            except OSError:
                pass
        started = time.monotonic()
        while post({"query": "{ __typename }"}, timeout=5)[0] != "200 ok" and time.monotonic() - started < 30:
            time.sleep(0.2)
        back = time.monotonic() - started
        print(f"| 1,100 idle connections (server limit 1,024 descriptors) | {len(sockets)} opened, {shed} answered 503 at once "
              f"| normal query served again after {back:.1f} s | {rss_kb(server.pid, 'VmRSS') / 1024:.0f} MB "
              f"| {'alive' if server.poll() is None else 'DIED'} |")
        for held in sockets:
            held.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def oha_p99(body, seconds):
    out = subprocess.run(
        ["oha", "--no-tui", "-z", f"{seconds}s", "-c", "1", "-m", "POST", "-H", "content-type: application/json",
         "-H", f"authorization: Bearer {KEY}", "-d", body, "--output-format", "json", URL],
        capture_output=True, text=True, check=True,
    ).stdout
    result = json.loads(out)
    return f"{result['latencyPercentiles']['p99'] * 1000:.1f} ms"


if __name__ == "__main__":
    main()
